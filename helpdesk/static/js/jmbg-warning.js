/* Warn a citizen before they send a personal ID number (JMBG).
 *
 * The same rule as helpdesk/privacy/jmbg.py: 13 digits not inside a longer run of digits, the
 * mod-11 check digit, a real date of birth (not in the future) and a region in use (not 20 or
 * 40). A form marked data-jmbg-warning shows its [data-jmbg-warning-text] paragraph while the
 * text holds a number; the first Send with a number stops and says so, the second one sends
 * (the citizen may still need to give it). Loaded before the page's own script so that its
 * submit listener (capture phase) runs first.
 */
(function () {
  "use strict";
  var WEIGHTS = [7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  var RUN = /(^|\D)(\d{13})(?!\d)/g;

  function validJmbg(n) {
    var sum = 0;
    for (var i = 0; i < 12; i++) { sum += WEIGHTS[i] * Number(n[i]); }
    var m = 11 - (sum % 11);
    if (m > 9) { m = 0; }
    if (m !== Number(n[12])) { return false; }
    var day = Number(n.slice(0, 2)), month = Number(n.slice(2, 4)), y3 = Number(n.slice(4, 7));
    var year = y3 >= 800 ? 1000 + y3 : 2000 + y3;
    var born = new Date(Date.UTC(year, month - 1, day));
    if (born.getUTCFullYear() !== year || born.getUTCMonth() !== month - 1 || born.getUTCDate() !== day) {
      return false;
    }
    if (born.getTime() > Date.now()) { return false; }
    var region = Number(n.slice(7, 9));
    return region !== 20 && region !== 40;
  }

  function holdsJmbg(text) {
    RUN.lastIndex = 0;
    var match;
    while ((match = RUN.exec(text || "")) !== null) {
      if (validJmbg(match[2])) { return true; }
    }
    return false;
  }

  window.helpdeskJmbg = { valid: validJmbg, holds: holdsJmbg };

  function watch(form) {
    var warning = form.querySelector("[data-jmbg-warning-text]");
    if (!warning) { return; }
    var fields = form.querySelectorAll("textarea, input[type=text]:not([autocomplete])");
    var acknowledged = "";

    function currentText() {
      return Array.prototype.map.call(fields, function (f) { return f.value; }).join("\n");
    }
    function update() {
      warning.hidden = !holdsJmbg(currentText());
    }
    Array.prototype.forEach.call(fields, function (f) { f.addEventListener("input", update); });
    form.addEventListener("submit", function (ev) {
      var text = currentText();
      if (!holdsJmbg(text) || acknowledged === text) { return; }
      acknowledged = text;  // the next Send with the same text goes through
      ev.preventDefault();
      ev.stopImmediatePropagation();
      warning.hidden = false;
      warning.focus();
    }, true);
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-jmbg-warning]"), watch);
})();
