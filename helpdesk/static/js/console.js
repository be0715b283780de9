/* Agent console: live list and ticket view over Socket.IO namespace /console.
 *
 * Pages are rendered on the server; events only tell the page *that* something changed, and the
 * page fetches the fresh fragment (one rendering path, same escaping). Actions are Socket.IO events
 * with acknowledgements; the server checks role and queue on every one.
 */
(function () {
  "use strict";

  var root = document.getElementById("console");
  if (!root || typeof io === "undefined") { return; }
  var T = JSON.parse(document.getElementById("console-strings").textContent);
  var view = root.dataset.view;
  var reference = root.dataset.reference || null;
  var connection = document.getElementById("console-connection");
  var socket = io("/console");

  function fmt(s, values) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }
  function say(el, text) { if (el) { el.textContent = ""; el.textContent = text; } }

  socket.on("connect", function () {
    say(connection, T.connected);
    connection.classList.remove("connection--down");
    if (view === "ticket") { socket.emit("view", { reference: reference }, function () {}); refreshTimeline(); refreshTicket(); }
    else { refreshBoard(); }
  });
  // Events from other server processes were lost (Redis was down too long, or this process's
  // subscription broke): fetch what a reconnect fetches. Spread over 2 s, as every console gets it.
  socket.on("resync", function () {
    setTimeout(function () {
      if (view === "ticket") { refreshTimeline(); refreshTicket(); } else { refreshBoard(); }
    }, Math.random() * 2000);
  });
  socket.on("disconnect", function () {
    say(connection, T.disconnected);
    connection.classList.add("connection--down");
  });
  socket.on("connect_error", function () {
    say(connection, T.disconnected);
    connection.classList.add("connection--down");
  });
  setInterval(function () { if (socket.connected) { socket.emit("heartbeat", {}, function () {}); } }, 30000);
  socket.on("session_ended", function () {
    // Logged out elsewhere: don't keep reconnecting with a dead session; go to the login page.
    socket.io.opts.reconnection = false;
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
  });

  // ---------------------------------------------------------------- list view
  var boardTimer = null;
  var announced = {};
  function refreshBoard() {
    if (view !== "list") { return; }
    if (boardTimer) { clearTimeout(boardTimer); }
    boardTimer = setTimeout(function () {
      boardTimer = null;
      fetch(root.dataset.boardUrl + window.location.search, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var focused = document.activeElement && document.activeElement.dataset
            ? document.activeElement.dataset.focusKey : null;
          var board = document.getElementById("board");
          board.innerHTML = html;
          if (focused) {
            var again = board.querySelector('[data-focus-key="' + CSS.escape(focused) + '"]');
            if (again) { again.focus(); }
          }
        })
        .catch(function () { /* next event or the periodic refresh tries again */ });
    }, 250);
  }
  if (view === "list") { setInterval(refreshBoard, 60000); }

  function onTicketEvent(data) {
    var ticket = data && data.ticket;
    if (view === "list") {
      if (data.type === "ticket.created" && ticket && !announced[ticket.reference]) {
        announced[ticket.reference] = true;
        say(document.getElementById("console-announcer"), fmt(T.new_ticket, ticket));
      }
      refreshBoard();
      return;
    }
    if (data.type === "ticket.merged" && (data.source === reference || data.target === reference)) {
      // Messages moved between tickets: reload (the server redirects a merged ticket to its target).
      window.location.reload();
      return;
    }
    if (!ticket || ticket.reference !== reference) { return; }
    // The same events drive every agent's view, the acting agent's own included: a reply turns
    // the ticket "open" and its message "queued" then "sent" here without a reload.
    if (data.type === "message.created") {
      refreshTimeline(data.message && data.message.direction === "inbound");
      syncProps(ticket);
    } else if (data.type === "message.updated") {
      if (data.message && data.message.seq) { refreshTimeline(false, data.message.seq); }
      syncProps(ticket);
    } else if (data.type === "ticket.updated" || data.type === "ticket.assigned") {
      syncProps(ticket);
      refreshTimeline();  // a resolve queues the survey: it shows as an automatic message
    }
  }
  ["ticket.created", "ticket.updated", "ticket.assigned", "ticket.merged", "message.created", "message.updated"]
    .forEach(function (name) {
      socket.on(name, function (data) { data = data || {}; data.type = data.type || name; onTicketEvent(data); });
    });

  // A call back recorded on this ticket shows on its timeline (helpdesk/callbacks).
  socket.on("callback.updated", function (data) {
    if (view === "ticket" && data && data.reference === reference) { refreshTimeline(); }
  });

  // ---------------------------------------------------------------- SLA
  // The SLA watch tells a queue (and its supervisors) when a ticket nears or passes its deadline.
  // A supervisor gets each one twice (queue room and own room): show it once per ticket and due time.
  var slaSeen = {};
  function markRow(ref, state) {
    var row = document.querySelector('#ticket-list tr[data-reference="' + CSS.escape(ref) + '"]');
    if (!row) { return; }
    row.classList.remove("sla-warning", "sla-breached");
    row.classList.add("sla-" + state);
    row.dataset.sla = state;
    var slot = row.querySelector(".sla-slot");
    if (slot) {
      var badge = document.createElement("span");
      badge.className = "badge sla-badge sla-badge--" + state;
      badge.textContent = T["sla_" + state + "_badge"];
      slot.textContent = "";
      slot.appendChild(badge);
    }
  }
  function onSla(state, data) {
    var ticket = data && data.ticket;
    if (!ticket || typeof ticket.reference !== "string") { return; }
    var key = ticket.reference + "|" + state + "|" + (ticket.sla_due_at || "");
    if (slaSeen[key]) { return; }
    slaSeen[key] = true;
    if (view === "list") { markRow(ticket.reference, state); }
    say(document.getElementById("sla-notice"), fmt(T["sla_" + state], ticket));
  }
  socket.on("sla.warning", function (data) { onSla("warning", data); });
  socket.on("sla.breached", function (data) { onSla("breached", data); });

  // ---------------------------------------------------------------- ticket view
  var timeline = document.getElementById("timeline");
  function lastSeq() {
    var items = timeline ? timeline.querySelectorAll("li[data-seq]") : [];
    var max = 0;
    for (var i = 0; i < items.length; i++) { max = Math.max(max, parseInt(items[i].dataset.seq, 10)); }
    return max;
  }
  var fetching = false, again = false, redoFrom = 0;
  function refreshTimeline(announceInbound, changedSeq) {
    if (view !== "ticket") { return; }
    if (changedSeq) { redoFrom = redoFrom ? Math.min(redoFrom, changedSeq) : changedSeq; }
    if (fetching) { again = true; return; }
    fetching = true;
    // A changed message (its delivery state) is fetched again and replaced in place.
    var after = redoFrom ? Math.min(redoFrom - 1, lastSeq()) : lastSeq();
    redoFrom = 0;
    fetch(root.dataset.timelineUrl + "?after=" + after, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        var gotInbound = false;
        Array.prototype.forEach.call(tpl.content.querySelectorAll("li[data-seq], li[data-auto]"), function (li) {
          var old = li.dataset.seq ? timeline.querySelector('li[data-seq="' + li.dataset.seq + '"]')
            : timeline.querySelector('li[data-auto="' + li.dataset.auto + '"]');
          if (old) {
            if (old.innerHTML !== li.innerHTML) { timeline.replaceChild(li, old); }
          } else {
            timeline.appendChild(li);
            if (li.classList.contains("tl--inbound")) { gotInbound = true; }
          }
        });
        if (gotInbound && announceInbound) { citizenTyping(false); }
        var last = timeline.lastElementChild;
        if (last && last.scrollIntoView) { last.scrollIntoView({ block: "nearest" }); }
      })
      .catch(function () { /* retried on the next event */ })
      .then(function () { fetching = false; if (again) { again = false; refreshTimeline(); } });
  }

  // Presence: who else is here, kept for 40 s after their last word.
  var presence = {};
  var presenceEl = document.getElementById("presence");
  var citizenTypingUntil = 0;
  function renderPresence() {
    var now = Date.now(), parts = [];
    Object.keys(presence).forEach(function (id) {
      var p = presence[id];
      if (p.until < now || p.state === "left") { delete presence[id]; return; }
      parts.push(fmt(T[p.state] || T.viewing, { name: p.name }));
    });
    if (citizenTypingUntil > now) { parts.push(T.citizen_typing); }
    var text = parts.join(" ");
    if (presenceEl && presenceEl.textContent !== text) { presenceEl.textContent = text; }
  }
  function citizenTyping(on) { citizenTypingUntil = on ? Date.now() + 8000 : 0; renderPresence(); }
  socket.on("presence", function (data) {
    if (!data || data.reference !== reference || !data.agent) { return; }
    presence[data.agent.id] = { name: data.agent.name, state: data.state, until: Date.now() + 40000 };
    renderPresence();
  });
  socket.on("citizen.typing", function (data) {
    if (data && data.reference === reference) { citizenTyping(!!data.typing); }
  });
  if (view === "ticket") {
    setInterval(function () {
      renderPresence();
      if (socket.connected) { socket.emit("presence", { reference: reference, state: myState }, function () {}); }
    }, 20000);
  }

  var myState = "viewing", idleTimer = null, lastSent = 0;
  function setMyState(state) {
    var now = Date.now();
    if (state !== myState || now - lastSent > 3000) {
      myState = state; lastSent = now;
      if (socket.connected) { socket.emit("presence", { reference: reference, state: state }, function () {}); }
    }
    if (idleTimer) { clearTimeout(idleTimer); }
    if (state !== "viewing") { idleTimer = setTimeout(function () { setMyState("viewing"); }, 5000); }
  }

  function act(name, payload, statusEl, okText, done) {
    payload.reference = reference;
    socket.timeout(15000).emit(name, payload, function (err, res) {
      if (err) { say(statusEl, T.disconnected); return; }
      if (!res || !res.ok) { say(statusEl, (res && res.error && res.error.message) || T.error); return; }
      say(statusEl, okText);
      if (done) { done(res); }
    });
  }

  function compose(formId, textId, eventName, okText, typingState) {
    var form = document.getElementById(formId);
    if (!form) { return; }
    var box = document.getElementById(textId);
    var status = form.querySelector(".form-status");
    box.addEventListener("input", function () { setMyState(typingState); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = box.value.trim();
      if (!text) { box.focus(); return; }
      act(eventName, { text: text }, status, okText, function () {
        box.value = ""; setMyState("viewing"); refreshTimeline();
      });
    });
  }
  compose("reply-form", "reply-text", "reply", T.sent, "typing");
  compose("note-form", "note-text", "note", T.noted, "noting");

  var canned = document.getElementById("canned");
  function insertCanned(opt) {
    var box = document.getElementById("reply-text");
    if (opt && opt.dataset.text) {
      box.value = box.value ? box.value.replace(/\s*$/, "\n\n") + opt.dataset.text : opt.dataset.text;
      setMyState("typing");
    }
    canned.selectedIndex = 0;
    box.focus();
  }
  if (canned) {
    canned.addEventListener("change", function () { insertCanned(canned.options[canned.selectedIndex]); });
  }
  // The finder: narrows the list by title or shortcut (Latin, with or without diacritics).
  var cannedFind = document.getElementById("canned-find");
  function fold(s) {
    return s.toLowerCase().replace(/đ/g, "dj").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  function cannedMatches() {
    var q = fold(cannedFind.value.trim());
    return Array.prototype.filter.call(canned.options, function (o, i) {
      var show = i === 0 || !q || (o.dataset.search || "").indexOf(q) >= 0;
      o.hidden = !show;
      return i > 0 && show;
    });
  }
  if (cannedFind && canned) {
    cannedFind.addEventListener("input", cannedMatches);
    cannedFind.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") { return; }
      ev.preventDefault();  // not a reply: Enter here picks the canned response
      var found = cannedMatches();
      if (found.length) { cannedFind.value = ""; cannedMatches(); insertCanned(found[0]); }
    });
  }

  var assignForm = document.getElementById("assign-form");
  if (assignForm) {
    var propsStatus = document.getElementById("props-status");
    assignForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = document.getElementById("p-assignee").value;
      act("assign", { agent_id: v ? parseInt(v, 10) : null }, propsStatus, T.saved);
    });
  }
  function claim() {
    act("claim", {}, document.getElementById("props-status"), T.claimed, function () {
      var sel = document.getElementById("p-assignee");
      if (sel) { sel.value = root.dataset.agentId; }
    });
  }

  var propsForm = document.getElementById("props-form");
  if (propsForm) {
    propsForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var status = document.getElementById("props-status");
      var changed = ["status", "priority", "category", "queue"].map(function (f) {
        return document.getElementById("p-" + f);
      }).filter(function (el) { return el.value !== el.dataset.initial; });
      (function next() {
        var el = changed.shift();
        if (!el) { say(status, T.saved); return; }
        socket.timeout(15000).emit("set", { reference: reference, field: el.name, value: el.value },
          function (err, res) {
            if (err || !res || !res.ok) {
              say(status, (res && res.error && res.error.message) || T.disconnected); el.focus(); return;
            }
            el.dataset.initial = el.value; next();
          });
      })();
    });
  }

  // The ticket's fields as the server has them now (a small JSON, not the page: a page view is
  // an access-log entry, and a merged ticket's page redirects to another ticket).
  function refreshTicket() {
    if (view !== "ticket") { return; }
    fetch(root.dataset.fieldsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (ticket) {
        // Merged away meanwhile: open the page again; the server says so and shows the target.
        if (ticket.merged) { window.location.assign(window.location.pathname); return; }
        if (ticket.category == null) { ticket.category = ""; }
        syncProps(ticket);
      })
      .catch(function () { /* the next event or reconnect tries again */ });
  }

  function syncProps(ticket) {
    var badge = document.getElementById("ticket-status");
    if (badge && ticket.status && badge.dataset.status !== ticket.status) {
      badge.dataset.status = ticket.status;
      badge.className = "badge status-" + ticket.status;
      badge.textContent = (T.statuses && T.statuses[ticket.status]) || ticket.status;
    }
    ["status", "priority", "category", "queue"].forEach(function (f) {
      var el = document.getElementById("p-" + f);
      // Don't overwrite what the agent is editing right now.
      if (el && el.value === el.dataset.initial && ticket[f] != null) {
        el.value = ticket[f]; el.dataset.initial = ticket[f];
      }
    });
    var sel = document.getElementById("p-assignee");
    if (sel && document.activeElement !== sel) { sel.value = ticket.assignee_id == null ? "" : String(ticket.assignee_id); }
  }

  // ---------------------------------------------------------------- list: sorting
  // Column headers are buttons (announced with aria-sort on the header); a sort is a URL, so the
  // live refresh, the back button and a saved view all keep it.
  document.addEventListener("click", function (ev) {
    var btn = ev.target && ev.target.closest ? ev.target.closest("button.sort[data-href]") : null;
    if (btn) { ev.preventDefault(); window.location.assign(btn.dataset.href); }
  });

  // ---------------------------------------------------------------- relative times
  // The server writes "5 minutes ago" in the page's language; keep the words true as time passes.
  var rtf = null;
  try { rtf = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" }); }
  catch (e) { rtf = null; }
  function relativeWords(date) {
    var secs = (date.getTime() - Date.now()) / 1000, abs = Math.abs(secs);
    var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][1] * 0.9) { return rtf.format(Math.round(secs / units[i][1]), units[i][0]); }
    }
    return rtf.format(0, "second");
  }
  function refreshTimes() {
    if (!rtf) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("time.when[datetime]"), function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d.getTime())) { var w = relativeWords(d); if (el.textContent !== w) { el.textContent = w; } }
    });
  }
  setInterval(refreshTimes, 60000);

  // ---------------------------------------------------------------- keyboard
  var dialog = document.getElementById("shortcuts-dialog");
  function openHelp() { if (dialog && !dialog.open) { dialog.showModal(); } }
  Array.prototype.forEach.call(document.querySelectorAll('[data-action="help"]'), function (b) {
    b.addEventListener("click", openHelp);
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-action="claim"]'), function (b) {
    b.addEventListener("click", claim);
  });

  function moveInList(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll(".ticket-link"));
    if (!links.length) { return; }
    var i = links.indexOf(document.activeElement);
    i = i < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, i + step));
    links[i].focus();
  }

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    var typing = t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT" || t.isContentEditable);
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t && t.tagName === "TEXTAREA" && t.form) {
      ev.preventDefault();
      t.form.requestSubmit ? t.form.requestSubmit() : t.form.dispatchEvent(new Event("submit"));
      return;
    }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey || (dialog && dialog.open)) { return; }
    var box;
    switch (ev.key) {
      case "?": ev.preventDefault(); openHelp(); break;
      case "/":
        box = document.querySelector("#filters input, #filters select");
        if (box) { ev.preventDefault(); box.focus(); }
        else if (view === "ticket") { ev.preventDefault(); window.location.assign(root.dataset.listUrl + "#f-q"); }
        break;
      case "j": if (view === "list") { ev.preventDefault(); moveInList(1); } break;
      case "k": if (view === "list") { ev.preventDefault(); moveInList(-1); } break;
      case "u": if (view === "ticket") { ev.preventDefault(); window.location.assign(root.dataset.listUrl); } break;
      case "r":
        box = document.getElementById("reply-text");
        // No way to reach the citizen: the reply box is hidden and a note is offered instead.
        if (box && box.form && box.form.hidden) { box = document.getElementById("note-text"); }
        if (box) { ev.preventDefault(); box.focus(); }
        break;
      case "n": box = document.getElementById("note-text"); if (box) { ev.preventDefault(); box.focus(); } break;
      case "c": if (view === "ticket") { ev.preventDefault(); claim(); } break;
      default: break;
    }
  });

  if (view === "list" && window.location.hash === "#f-q") {  // "/" pressed on a ticket: search here
    var searchBox = document.getElementById("f-q");
    if (searchBox) { searchBox.focus(); }
  }

  window.addEventListener("pagehide", function () {
    if (view === "ticket" && socket.connected) { socket.emit("leave", { reference: reference }); }
  });
})();
