/* Citizen chat: "Ask us to call you" (protocol events `callback_windows` and `callback`,
 * channels/chat/protocol.md). chat.js calls window.HelpdeskChatCallback(options) once its socket
 * exists; the texts ride on the <details> element as data attributes, already translated.
 */
(function () {
  "use strict";

  window.HelpdeskChatCallback = function (o) {
    var box = document.getElementById("chat-callback");
    var form = document.getElementById("chat-callback-form");
    var days = document.getElementById("chat-callback-days");
    var status = document.getElementById("chat-callback-status");
    var phone = document.getElementById("chat-callback-phone");
    if (!box || !form || !days || !status || !phone) { return; }
    var loaded = false;

    function say(text) { status.textContent = text; }

    function show(res) {
      days.textContent = "";
      if (!res.days || !res.days.length) { say(box.dataset.none); return; }
      res.days.forEach(function (day, i) {
        var set = document.createElement("fieldset");
        set.className = "chat-callback__day";
        var legend = document.createElement("legend");
        legend.textContent = day.day;
        set.appendChild(legend);
        day.windows.forEach(function (w) {
          var label = document.createElement("label");
          var input = document.createElement("input");
          input.type = "checkbox"; input.name = "window"; input.value = w.key;
          label.appendChild(input);
          label.appendChild(document.createTextNode(" " + w.hours));
          set.appendChild(label);
        });
        days.appendChild(set);
      });
      say("");
    }

    function load() {
      if (!o.isReady()) { setTimeout(load, 500); return; }
      say(box.dataset.loading);
      o.socket.timeout(15000).emit("callback_windows", { language: o.language }, function (err, res) {
        if (err || !res || !res.ok) { say(box.dataset.tryAgain); return; }
        loaded = true; show(res);
      });
    }

    box.addEventListener("toggle", function () { if (box.open && !loaded) { load(); } });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = Array.prototype.map.call(form.querySelectorAll('input[name="window"]:checked'),
        function (el) { return el.value; });
      if (!picked.length) { say(box.dataset.needWindow); return; }
      var needs = Array.prototype.map.call(form.querySelectorAll('input[name="accommodation"]:checked'),
        function (el) { return el.value; });
      o.socket.timeout(15000).emit("callback", {
        phone: phone.value, windows: picked, accommodations: needs,
        name: o.nameBox.value, language: o.language,
      }, function (err, res) {
        if (err) { say(box.dataset.tryAgain); return; }
        if (!res || !res.ok) {
          say(res && res.error ? res.error.message : box.dataset.tryAgain);
          if (res && res.error && res.error.code === "stale_window") { loaded = false; load(); }
          return;
        }
        say(box.dataset.sent.replace("%(when)s", res.when).replace("%(reference)s", res.reference));
      });
    });
  };
})();
