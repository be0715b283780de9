/* "Show number" in the console timeline: the POST (with its CSRF token) answered as JSON and the
 * number shown beside the message, without leaving the ticket. Delegated from the document,
 * because the timeline is re-rendered when messages arrive. Without script the same form opens
 * a page with the number. Either way the server writes the reveal to the audit log. */
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-reveal")) { return; }
    ev.preventDefault();
    var out = form.querySelector(".reveal__out");
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      out.textContent = data.numbers.map(function (n) { return n || form.dataset.unreadable; }).join(", ");
      out.classList.add("reveal__out--shown");
      button.hidden = true;
    }).catch(function () {
      out.textContent = form.dataset.error;
      button.disabled = false;
    });
  });
})();
