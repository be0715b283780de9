// Knowledge-base ticket panel: "Insert link" / "Insert text" put an article into the reply box.
(function () {
  "use strict";
  if (window.kbPanelReady) { return; }
  window.kbPanelReady = true;
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest("[data-kb-insert]") : null;
    if (!button) { return; }
    var box = document.getElementById("reply-text");
    if (!box) { return; }
    var text = button.getAttribute("data-kb-insert") || "";
    box.value = box.value ? box.value.replace(/\s*$/, "\n\n") + text : text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    var status = document.querySelector("[data-kb-status]");
    if (status) { status.textContent = status.getAttribute("data-kb-done") || ""; }
  });
})();
