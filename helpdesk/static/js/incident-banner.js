/* The incident banner's "Details" button (templates/citizen/_incident_banner.html). The button
 * only unfolds the banner on screen: the notice is in the page either way, so screen readers read
 * it once whatever the state. The folding itself is CSS, for narrow screens only, so turning the
 * phone or widening the window needs no script; without script the banner simply stays whole. */
(function () {
  "use strict";
  function setUp(banner) {
    var button = banner.querySelector(".incident-more");
    if (!button) { return; }
    banner.classList.add("incident-banner--foldable");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      banner.classList.toggle("incident-banner--open", open);
    });
  }
  document.querySelectorAll("[data-incident-banner]").forEach(setUp);
})();
