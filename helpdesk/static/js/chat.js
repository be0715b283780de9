/* Citizen web chat: one conversation per browser, resumed by a token kept in localStorage.
 *
 * Protocol (namespace /chat, see channels/chat/protocol.md): hello -> history(after seq) ->
 * message(client_id) with acknowledgements; the server pushes "message", "typing" and "notice"
 * (a survey), and "resync" when it lost some of them (history again, after the last point up to
 * which the page has every message; its answer also carries the notices still standing).
 * Unacknowledged messages stay in localStorage and are re-sent after a reconnect; the server
 * stores each client_id once, so a resend never doubles a message.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root || typeof io === "undefined") { return; }
  var T = JSON.parse(document.getElementById("chat-strings").textContent);
  var HISTORY_LIMIT = 1000;  // the most messages one history answer carries (channels/chat/store.py)
  var TOKEN_KEY = "helpdesk.chat.token";
  var PENDING_KEY = "helpdesk.chat.pending";
  var PROFILE_KEY = "helpdesk.chat.profile";

  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var textBox = document.getElementById("chat-text");
  var statusEl = document.getElementById("chat-status");
  var typingEl = document.getElementById("chat-typing");
  var agentEl = document.getElementById("chat-agent");
  var nameBox = document.getElementById("chat-name");
  var emailBox = document.getElementById("chat-email");
  var langBox = document.getElementById("chat-language");
  var aboutBox = document.getElementById("chat-about");
  var transcriptBtn = document.getElementById("chat-transcript");
  var transcriptStatus = document.getElementById("chat-transcript-status");
  var errorEl = document.getElementById("chat-error");
  // The language the server rendered this page (and T) in. The language box only switches pages:
  // Chromium restores a form control's old value on Back, so the box may name another language
  // than the page, and whatever it named went to the server (notices, errors, dates in the wrong
  // script).
  var pageLang = root.dataset.lang || document.documentElement.lang || "sr-Latn";
  langBox.value = pageLang;
  window.addEventListener("pageshow", function () { langBox.value = pageLang; });

  function load(key, fallback) {
    try { var v = window.localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  var state = {
    token: load(TOKEN_KEY, null),
    reference: null,
    syncedSeq: 0,        // every message up to this one is shown (only history answers move it)
    seen: {},            // "REF:seq" -> true, so a message is shown once
    pending: load(PENDING_KEY, []),  // [{client_id, text}] not yet acknowledged
    items: {},           // client_id -> <li>
    ready: false,
    open: false,         // the conversation has an open ticket (the close button shows)
    notices: {},         // id -> true: a notice shown (live or from history) is shown once
  };
  var OPEN_STATUSES = ["new", "open", "pending"];
  var profile = load(PROFILE_KEY, {});
  if (profile.name && !nameBox.value) { nameBox.value = profile.name; }
  if (profile.email && !emailBox.value) { emailBox.value = profile.email; }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var a = new Uint8Array(16); window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function fmtTime(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString(document.documentElement.lang || undefined,
      { hour: "2-digit", minute: "2-digit" });
  }

  function render(msg, li) {
    li = li || document.createElement("li");
    li.className = "chat-msg chat-msg--" + (msg.direction === "inbound" ? "me" : "them");
    li.textContent = "";
    var who = document.createElement("span");
    who.className = "chat-msg__who";
    who.textContent = msg.direction === "inbound" ? T.you : (msg.author || T.support);
    var time = document.createElement("time");
    time.className = "chat-msg__time";
    if (msg.created_at) { time.dateTime = msg.created_at; }
    time.textContent = fmtTime(msg.created_at);
    var body = document.createElement("p");
    body.className = "chat-msg__text";
    body.textContent = msg.text;
    li.appendChild(who); li.appendChild(document.createTextNode(" ")); li.appendChild(time);
    li.appendChild(body);
    if (msg.state) {
      var st = document.createElement("span");
      st.className = "chat-msg__state";
      st.textContent = msg.state;
      li.appendChild(st);
    }
    if (msg.seq) { li.dataset.seq = String(msg.seq); }
    return li;
  }

  function accept(msg) {
    // A new conversation (the old ticket was closed): start counting from its first message.
    if (msg.reference && msg.reference !== state.reference) {
      state.reference = msg.reference; state.syncedSeq = 0;
    }
    var key = msg.reference + ":" + msg.seq;
    if (state.seen[key]) { return; }
    state.seen[key] = true;
    var li = msg.client_id ? state.items[msg.client_id] : null;
    if (li) {
      render(msg, li);
      dropPending(msg.client_id);
    } else {
      li = render(msg);
      li.dataset.ref = msg.reference || "";
      log.insertBefore(li, laterThan(msg));  // a message caught up late goes where it belongs
    }
    if (msg.direction === "outbound" && msg.author) {
      agentEl.textContent = T.chatting_with.replace("%(name)s", msg.author);
      typingEl.textContent = "";
      if (suggest) { suggest.agentAnswered(); }  // a person answers now: suggestions go away
    }
    li.scrollIntoView({ block: "nearest" });
  }

  // The first message shown of the same conversation with a higher number (null: the end).
  function laterThan(msg) {
    var items = log.querySelectorAll("li[data-seq]");
    for (var i = 0; i < items.length; i++) {
      if (items[i].dataset.ref === msg.reference && parseInt(items[i].dataset.seq, 10) > msg.seq) { return items[i]; }
    }
    return null;
  }

  function isPending(clientId) {
    return state.pending.some(function (p) { return p.client_id === clientId; });
  }

  function dropPending(clientId) {
    state.pending = state.pending.filter(function (p) { return p.client_id !== clientId; });
    save(PENDING_KEY, state.pending);
    delete state.items[clientId];
  }

  function showError(text) {
    errorEl.textContent = text || "";
    errorEl.hidden = !text;
  }

  var socket = io((root.dataset.base || "") + "/chat", {
    path: root.dataset.socketPath || "/socket.io",
    auth: function (cb) { cb({ token: state.token, lang: pageLang }); },
  });

  function sendPending(p) {
    var payload = {
      client_id: p.client_id, text: p.text, language: pageLang,
      name: nameBox.value.trim() || null, email: emailBox.value.trim() || null,
    };
    socket.timeout(15000).emit("message", payload, function (err, res) {
      if (err) {
        // No answer yet (a busy server): try again; the server stores each client_id once.
        setTimeout(function () {
          if (socket.connected && state.ready && isPending(p.client_id)) { sendPending(p); }
        }, 5000);
        return;
      }
      var li = state.items[p.client_id];
      if (res && !res.ok && res.error && res.error.code === "slow_down") {
        setTimeout(function () { if (socket.connected) { sendPending(p); } }, 5000);
        return; // still pending: sent again in a moment
      }
      if (!res || !res.ok) {
        dropPending(p.client_id);
        if (li) {
          li.classList.add("chat-msg--failed");
          var st = li.querySelector(".chat-msg__state");
          if (st) { st.textContent = T.not_sent + " " + ((res && res.error && res.error.message) || ""); }
        }
        showError((res && res.error && res.error.message) || T.not_sent);
        return;
      }
      showError("");
      accept(res.message);
      // Stored: its conversation is open (a resolved one reopens), whatever a hello or history
      // answer read before it (a message typed before the page's hello was answered).
      state.open = true;
      if (suggest) { suggest.refresh(); }
      if (res.offline) { offlineNotice(res.offline); }
    });
  }

  // An email address typed after the offline prompt is kept at once (no message needed).
  emailBox.addEventListener("change", function () {
    var email = emailBox.value.trim();
    if (!email || !emailBox.checkValidity() || !socket.connected || !state.ready) { return; }
    save(PROFILE_KEY, { name: nameBox.value.trim(), email: email });
    socket.timeout(15000).emit("profile", { email: email, name: nameBox.value.trim() || null },
      function (err, res) {
        if (!err && res && res.ok) { transcriptStatus.textContent = T.email_saved; }
      });
  });

  // Nobody online: confirm at once with the reference, and ask for an email if we have none.
  var offlineShown = {};
  function offlineNotice(info) {
    if (!info.reference || offlineShown[info.reference]) { return; }
    offlineShown[info.reference] = true;
    var hasEmail = info.email_known || !!emailBox.value.trim();
    var li = document.createElement("li");
    li.className = "chat-msg chat-msg--notice chat-offline";
    var p = document.createElement("p");
    p.className = "chat-msg__text";
    p.textContent = (hasEmail ? T.received_email : T.received).replace("%(ref)s", info.reference);
    li.appendChild(p);
    if (!hasEmail) {
      var ask = document.createElement("p");
      ask.className = "chat-msg__text";
      ask.textContent = T.leave_email;
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "secondary"; btn.textContent = T.add_email;
      btn.addEventListener("click", function () {
        aboutBox.open = true; emailBox.focus();
      });
      li.appendChild(ask); li.appendChild(btn);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  // Knowledge-base suggestions and "close the chat" (chat-suggest.js, loaded before this file).
  var suggest = window.HelpdeskChatSuggest ? window.HelpdeskChatSuggest({
    socket: socket, strings: T, textBox: textBox, language: pageLang, showError: showError,
    isReady: function () { return socket.connected && state.ready; },
    hasConversation: function () { return state.open; },
  }) : null;

  // "Call me back" (chat-callback.js): asks for the windows when opened, then sends the request.
  if (window.HelpdeskChatCallback) {
    window.HelpdeskChatCallback({
      socket: socket, language: pageLang, nameBox: nameBox,
      isReady: function () { return socket.connected && state.ready; },
    });
  }

  function hello() {
    socket.timeout(15000).emit("hello", { token: state.token, language: pageLang },
      function (err, res) {
        if (err || !res || !res.ok) {
          setTimeout(function () { if (socket.connected && !state.ready) { hello(); } }, 3000);
          return;
        }
        state.token = res.token; save(TOKEN_KEY, res.token);
        statusEl.textContent = res.agents_online ? T.online : T.offline;
        root.classList.toggle("chat--offline", !res.agents_online);
        state.open = !!res.reference && OPEN_STATUSES.indexOf(res.status) >= 0;
        if (suggest) { suggest.refresh(); }
        if (res.agent_name) { agentEl.textContent = T.chatting_with.replace("%(name)s", res.agent_name); }
        catchUp(res.reference, function (ok) {
          if (!ok) {
            setTimeout(function () { if (socket.connected && !state.ready) { hello(); } }, 3000);
            return;
          }
          state.ready = true;
          state.pending.forEach(sendPending);
          if (resyncDue) { resync(); }  // asked for while this hello was under way
        });
      });
  }

  // Everything of the conversation after the point up to which the page has it all; accept()
  // shows each once. Not "after the last message shown": a live message shown after one that
  // was lost (an agent's reply dropped while Redis was down, then the next one delivered) must
  // not hide the lost one. A conversation other than the one shown (a new ticket, or a merge)
  // is fetched from its start.
  function catchUp(reference, done) {
    var after = reference === state.reference ? state.syncedSeq : 0;
    socket.timeout(15000).emit("history", { after: after }, function (err, hist) {
      if (err || !hist || !hist.ok) { done(false); return; }
      if (after && hist.reference !== reference) { catchUp(hist.reference, done); return; }
      hist.messages.forEach(accept);
      if (hist.reference && hist.reference === state.reference) {
        var n = hist.messages.length, top = n ? hist.messages[n - 1].seq : after;
        // last_seq was read before the messages: everything up to it came in this answer,
        // unless the answer was cut at its limit; then fetch the rest.
        if (n >= HISTORY_LIMIT) { state.syncedSeq = top; catchUp(hist.reference, done); return; }
        state.syncedSeq = Math.max(top, hist.last_seq || 0, state.syncedSeq);
        standing(hist);
      }
      done(true);
    });
  }

  // The conversation's state besides its messages, in the same answer: whether it is still open
  // (the agent may have resolved it meanwhile) and the notices still standing, a survey whose
  // live "notice" was lost with the message queue. An older server sends neither.
  function standing(hist) {
    if (typeof hist.status === "string") {
      state.open = OPEN_STATUSES.indexOf(hist.status) >= 0;
      if (suggest) { suggest.refresh(); }
    }
    (hist.notices || []).forEach(showNotice);
  }

  // "resync": the server lost events for this conversation on the way between its processes
  // (its message queue was down), an agent's reply perhaps. Only this conversation's room gets
  // it (or every page of a process whose own link to the queue broke), and it carries nothing:
  // fetch what a reconnect fetches, as this token may. Spread over 2 s, as many pages may get it.
  var resyncDue = false;
  var resyncing = false;
  function resync() {
    if (!socket.connected || !state.ready || resyncing) { resyncDue = true; return; }
    resyncDue = false;
    resyncing = true;
    catchUp(state.reference, function (ok) {
      resyncing = false;
      if (!ok) { resyncDue = true; }
      if (resyncDue) { setTimeout(resync, ok ? 0 : 3000); }
    });
  }

  socket.on("connect", function () { hello(); });
  socket.on("disconnect", function () {
    state.ready = false;
    statusEl.textContent = T.reconnecting;
  });
  socket.on("message", accept);
  socket.on("resync", function () { setTimeout(resync, Math.random() * 2000); });
  socket.on("typing", function (data) {
    typingEl.textContent = data && data.typing ? T.typing.replace("%(name)s", data.name || T.support) : "";
  });
  // A notice (the satisfaction survey once the agent resolved the conversation), live or from a
  // history answer: once per id. One without an id (an older server) is shown as it comes.
  function showNotice(data) {
    if (!data) { return; }
    if (data.id !== undefined && data.id !== null) {
      if (state.notices[data.id]) { return; }
      state.notices[data.id] = true;
    }
    if (data.kind === "survey") {  // resolved: "my question is answered" has nothing left to close
      state.open = false;
      if (suggest) { suggest.refresh(); }
    }
    var li = document.createElement("li");
    li.className = "chat-msg chat-msg--notice";
    var p = document.createElement("p");
    p.className = "chat-msg__text";
    p.textContent = data.kind === "survey" ? T.survey : (data.text || "");
    li.appendChild(p);
    // Only our own survey links: never a link the page did not expect.
    if (data.url && /^https?:\/\//.test(data.url)) {
      var a = document.createElement("a");
      a.href = data.url; a.textContent = T.survey_link; a.target = "_blank"; a.rel = "noopener";
      li.appendChild(a);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }
  socket.on("notice", showNotice);
  socket.on("presence", function (data) {
    if (data && typeof data.agents_online === "boolean") {
      statusEl.textContent = data.agents_online ? T.online : T.offline;
    }
  });

  // Re-render messages left pending by a previous page load, then send them once connected.
  state.pending.forEach(function (p) {
    var li = render({ direction: "inbound", text: p.text, state: T.sending });
    state.items[p.client_id] = li; log.appendChild(li);
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = textBox.value.trim();
    if (!text) { showError(T.empty); textBox.focus(); return; }
    if (emailBox.value && !emailBox.checkValidity()) { showError(T.bad_email); emailBox.focus(); return; }
    showError("");
    save(PROFILE_KEY, { name: nameBox.value.trim(), email: emailBox.value.trim() });
    var p = { client_id: newId(), text: text };
    state.pending.push(p); save(PENDING_KEY, state.pending);
    var li = render({ direction: "inbound", text: text, state: T.sending });
    state.items[p.client_id] = li; log.appendChild(li);
    textBox.value = ""; stopTyping();
    if (socket.connected && state.ready) { sendPending(p); }
    state.open = true;
    if (suggest) { suggest.messageSent(); }
    textBox.focus();
  });

  // Enter sends, Shift+Enter makes a new line (as in every chat).
  textBox.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  var typingTimer = null, typingSent = 0;
  function stopTyping() {
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (typingSent) { typingSent = 0; if (socket.connected) { socket.emit("typing", { typing: false }); } }
  }
  textBox.addEventListener("input", function () {
    var now = Date.now();
    if (now - typingSent > 3000 && socket.connected && state.reference) {
      typingSent = now; socket.emit("typing", { typing: true });
    }
    if (typingTimer) { clearTimeout(typingTimer); }
    typingTimer = setTimeout(stopTyping, 4000);
  });

  langBox.addEventListener("change", function () {
    if (langBox.value === pageLang) { return; }
    var url = new URL(window.location.href);
    url.searchParams.set("lang", langBox.value);
    window.location.assign(url.toString());
  });

  transcriptBtn.addEventListener("click", function () {
    var email = emailBox.value.trim();
    if (!email || !emailBox.checkValidity()) {
      transcriptStatus.textContent = T.need_email; emailBox.focus(); return;
    }
    save(PROFILE_KEY, { name: nameBox.value.trim(), email: email });
    socket.timeout(15000).emit("transcript", { email: email, language: pageLang },
      function (err, res) {
        if (err) { transcriptStatus.textContent = T.try_again; return; }
        transcriptStatus.textContent = res && res.ok ? T.transcript_sent
          : ((res && res.error && res.error.message) || T.try_again);
      });
  });

  // Keep the citizen marked present while the page is open (the offline fallback needs it).
  setInterval(function () {
    if (!socket.connected || !state.ready) { return; }
    socket.emit("heartbeat", {}, function (res) {
      if (res && res.ok) {  // an agent may have come online (or left) meanwhile
        statusEl.textContent = res.agents_online ? T.online : T.offline;
        root.classList.toggle("chat--offline", !res.agents_online);
      }
    });
  }, 30000);
})();
