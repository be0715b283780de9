/* Embed loader: <script src="https://support.example/chat/embed.js" async></script>
 *
 * Adds a "Chat with support" button that opens the helpdesk chat in an iframe. The chat runs on
 * the helpdesk's own origin (its Socket.IO connection, its localStorage token); the host page only
 * needs to be listed in HELPDESK_CHAT_ORIGINS, which the helpdesk turns into CSP frame-ancestors.
 * Optional attributes on the script tag: data-lang (sr-Latn | sr-Cyrl | en), data-label.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || document.getElementById("helpdesk-chat-launcher")) { return; }
  var origin = new URL(script.src, window.location.href).origin;
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "";
  var labels = {
    "sr-Latn": ["Čet sa podrškom", "Zatvori čet"],
    "sr-Cyrl": ["Чет са подршком", "Затвори чет"],
    "en": ["Chat with support", "Close chat"],
  };
  var key = /cyrl/i.test(lang) ? "sr-Cyrl" : (/^sr/i.test(lang) ? "sr-Latn" : "en");
  var text = labels[key];
  var label = script.getAttribute("data-label") || text[0];

  var css = [
    "#helpdesk-chat-launcher{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;",
    "font:600 1rem/1.2 system-ui,sans-serif;color:#fff;background:#0b4f8a;border:2px solid #fff;",
    "border-radius:2rem;padding:.75rem 1.25rem;box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer}",
    "#helpdesk-chat-launcher:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
    "#helpdesk-chat-panel{position:fixed;right:1rem;bottom:4.5rem;z-index:2147483000;",
    "width:min(24rem,calc(100vw - 2rem));height:min(36rem,calc(100vh - 6rem));background:#fff;",
    "border:1px solid #555;border-radius:.5rem;box-shadow:0 4px 16px rgba(0,0,0,.35);",
    "display:flex;flex-direction:column}",
    "#helpdesk-chat-panel[hidden]{display:none}",
    "#helpdesk-chat-panel iframe{flex:1;border:0;width:100%;border-radius:0 0 .5rem .5rem}",
    "#helpdesk-chat-close{align-self:flex-end;margin:.25rem;font:1rem system-ui,sans-serif;",
    "background:#fff;color:#1a1a1a;border:1px solid #555;border-radius:.25rem;padding:.25rem .75rem;",
    "cursor:pointer}",
    "#helpdesk-chat-close:focus-visible{outline:3px solid #0b4f8a;outline-offset:2px}",
    "@media (max-width:30rem){#helpdesk-chat-panel{right:0;left:0;bottom:0;top:0;width:100vw;",
    "height:100vh;border-radius:0}}",
  ].join("");
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.id = "helpdesk-chat-launcher";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "helpdesk-chat-panel");

  var panel = document.createElement("div");
  panel.id = "helpdesk-chat-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", label);
  panel.hidden = true;
  var close = document.createElement("button");
  close.type = "button";
  close.id = "helpdesk-chat-close";
  close.textContent = text[1];
  panel.appendChild(close);

  var frame = null;
  function open() {
    if (!frame) {  // load the chat on first use only: the host page stays light
      frame = document.createElement("iframe");
      frame.title = label;
      frame.src = origin + "/chat?embed=1&lang=" + encodeURIComponent(key);
      panel.appendChild(frame);
    }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }
  function hide() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  button.addEventListener("click", function () { panel.hidden ? open() : hide(); });
  close.addEventListener("click", hide);
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { hide(); } });

  function mount() { document.body.appendChild(panel); document.body.appendChild(button); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
