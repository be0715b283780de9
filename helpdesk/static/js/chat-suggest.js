/* Citizen chat: knowledge-base suggestions while the citizen types, and "my question is
 * answered — close the chat" (protocol events `suggest` and `close`, channels/chat/protocol.md).
 *
 * chat.js calls window.HelpdeskChatSuggest(options) once its socket exists; this file only
 * adds to the page, so the chat still works if it fails to load.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 400;

  window.HelpdeskChatSuggest = function (o) {
    var T = o.strings;
    var section = document.getElementById("chat-suggest");
    var list = document.getElementById("chat-suggest-list");
    var status = document.getElementById("chat-suggest-status");
    var closeBtn = document.getElementById("chat-close");
    var log = document.getElementById("chat-log");
    if (!section || !list || !status || !closeBtn) { return; }

    var timer = null;
    var asked = "";       // the last text sent to the server
    var shownKey = "";    // ids of the articles on screen, to announce only a change
    var closed = false;   // closed since the last message the citizen sent
    var answered = false; // an agent answered this conversation: no more suggestions

    function worthAsking(text) {
      // Only a question with some substance: no search for "hi" or half a word.
      return text.length >= 12 || text.split(/\s+/).filter(Boolean).length >= 3;
    }

    function snippetInto(el, html) {
      // The snippet is escaped text with <mark> around matched words: keep only those two.
      var doc = new DOMParser().parseFromString("<p>" + (html || "") + "</p>", "text/html");
      var nodes = doc.body.firstChild ? doc.body.firstChild.childNodes : [];
      Array.prototype.forEach.call(nodes, function (n) {
        if (n.nodeType === 1 && n.nodeName === "MARK") {
          var m = document.createElement("mark"); m.textContent = n.textContent; el.appendChild(m);
        } else {
          el.appendChild(document.createTextNode(n.textContent));
        }
      });
    }

    function safeUrl(url) {
      try {
        var u = new URL(url, window.location.href);
        return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
      } catch (e) { return null; }
    }

    function updateCloseButton() {
      closeBtn.hidden = closed || !(shownKey || o.hasConversation());
    }

    function show(articles) {
      var key = articles.map(function (a) { return a.id; }).join(",");
      if (key === shownKey) { return; }  // same list: nothing to redraw or announce
      shownKey = key;
      list.textContent = "";
      articles.forEach(function (a) {
        var href = safeUrl(a.url);
        if (!href) { return; }
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = href; link.target = "_blank"; link.rel = "noopener";
        link.textContent = a.title;
        var hint = document.createElement("span");
        hint.className = "visually-hidden";
        hint.textContent = " " + T.new_tab;
        link.appendChild(hint);
        li.appendChild(link);
        if (a.snippet) {
          var p = document.createElement("p");
          p.className = "chat-suggest__snippet";
          snippetInto(p, a.snippet);
          li.appendChild(p);
        }
        list.appendChild(li);
      });
      section.hidden = !key;
      // One polite announcement per change of the list, never per keystroke.
      status.textContent = key ? T.suggest_found.replace("%(n)s", String(articles.length)) : "";
      updateCloseButton();
    }

    function ask() {
      timer = null;
      var text = o.textBox.value.trim();
      if (answered || !worthAsking(text) || text === asked || !o.isReady()) { return; }
      asked = text;
      o.socket.timeout(10000).emit("suggest", { text: text, language: o.language },
        function (err, res) {
          // A slow or refused suggestion is not worth an error: the chat goes on without it.
          if (err || !res || !res.ok || o.textBox.value.trim() !== text) { return; }
          show(res.articles || []);
        });
    }

    o.textBox.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, DEBOUNCE_MS);
    });

    function notice(text) {
      var li = document.createElement("li");
      li.className = "chat-msg chat-msg--notice";
      var p = document.createElement("p");
      p.className = "chat-msg__text";
      p.textContent = text;
      li.appendChild(p);
      log.appendChild(li);
      li.scrollIntoView({ block: "nearest" });
    }

    closeBtn.addEventListener("click", function () {
      closeBtn.disabled = true;
      o.socket.timeout(15000).emit("close", {}, function (err, res) {
        closeBtn.disabled = false;
        if (err || !res || !res.ok) {
          o.showError((res && res.error && res.error.message) || T.try_again);
          return;
        }
        o.showError("");
        closed = true;
        answered = false;  // the next question is a new one: suggestions may help again
        asked = "";
        show([]);
        notice(T.closed);
        o.textBox.focus();  // the button is gone; a new question starts here
      });
    });

    return {
      // chat.js tells us when the citizen sent a message or the conversation changed.
      // The suggestions stay: they answer the question just sent, while an agent is awaited.
      messageSent: function () { closed = false; updateCloseButton(); },
      refresh: updateCloseButton,
      agentAnswered: function () { answered = true; show([]); },
    };
  };
})();
