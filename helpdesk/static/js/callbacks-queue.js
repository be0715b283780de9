/* The callback queue follows the console's events: when a callback is asked for or an outcome is
 * recorded anywhere, the page fetches itself again and swaps the queue in (the server renders it;
 * one rendering path, the access policy applied there). A live region says that it changed.
 */
(function () {
  "use strict";

  var region = document.getElementById("callback-queue");
  var status = document.getElementById("callback-queue-status");
  if (!region || typeof io === "undefined") { return; }
  var socket = io("/console");
  var timer = null;

  function refresh() {
    if (timer) { return; }
    timer = setTimeout(function () {
      timer = null;
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("callback-queue");
          if (!fresh) { return; }
          // Keep the agent's place: an outcome form being filled in is not thrown away.
          if (region.contains(document.activeElement) && document.activeElement.tagName === "INPUT") { return; }
          if (fresh.innerHTML === region.innerHTML) { return; }  // nothing new: say nothing
          region.innerHTML = fresh.innerHTML;
          if (status) { status.textContent = status.dataset.changed; }
        })
        .catch(function () { /* the next event tries again */ });
    }, 300);
  }

  socket.on("connect", function () { region.dataset.live = "1"; refresh(); });  // catch up after a gap
  socket.on("disconnect", function () { region.dataset.live = "0"; });
  socket.on("callback.updated", refresh);
  setInterval(function () { if (socket.connected) { socket.emit("heartbeat", {}, function () {}); } }, 30000);
})();
