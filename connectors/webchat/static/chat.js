/* The web chat made live: the same page and the same forms, sent over a WebSocket to this
   origin instead of reloading the page. Without this script every form still works.
   Nothing is kept in the browser: no cookie, no localStorage; the address holds the token.
   Escape twice leaves at once: the conversation is erased and the tab goes to a neutral page. */
(function () {
  "use strict";
  var body = document.body;
  var exitUrl = body.getAttribute("data-exit") || "/blank";
  var token = body.getAttribute("data-session");
  var csrf = body.getAttribute("data-csrf") || "";
  var socket = null;
  var live = false;
  var leaving = false;
  var erasing = false;
  var awaiting = false;
  /* The mark of the question the choices shown were drawn for (a "state" frame's "drawn"):
     sent with a press, so that a second tab's press never answers the next question (the
     forty-seventh attack). Not with a message: one typed before the reply is shown is meant
     for the next question. */
  var drawn = null;
  var retries = 0;
  var lastEscape = 0;
  var lastButton = null;
  var queue = [];
  var pumping = false;
  var texts = {};
  /* The first line of the reply being shown: it is kept on screen while the reply's later
     lines arrive, so that advice (call the emergency number) never scrolls away under the
     question that follows it on a small phone. */
  var replyStart = null;
  var choicesHadFocus = false;
  /* The choice that had focus, and the choices then offered: a checklist offered again (the
     same choices, one now picked or taken off) keeps focus on the item just pressed. */
  var focusedChoice = null;

  function byId(id) { return document.getElementById(id); }

  function leave() {
    if (leaving) { return; }
    leaving = true;
    if (token) {
      if (socket && live) {
        try { socket.send(JSON.stringify({ type: "leave" })); } catch (ignored) { /* closing */ }
      }
      if (navigator.sendBeacon) {
        var form = new FormData();
        form.append("csrf", csrf);
        navigator.sendBeacon("/c/" + token + "/leave", form);
      }
    }
    window.location.replace(exitUrl);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") { return; }
    var now = Date.now();
    if (now - lastEscape < 1500) {
      event.preventDefault();
      leave();
    }
    lastEscape = now;
  });
  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target.closest("button, a") : null;
    if (!target) { return; }
    if (target.classList.contains("leave")) {
      event.preventDefault();
      leave();
      return;
    }
    lastButton = target.tagName === "BUTTON" ? target : null;
  });
  /* Shown only where the keys work: text browsers and pages without script never see it. */
  var foot = document.querySelector(".foot");
  if (foot && body.getAttribute("data-hint")) {
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.setAttribute("data-t", "quick_exit_hint");
    hint.textContent = body.getAttribute("data-hint");
    foot.insertBefore(hint, foot.firstChild);
  }

  /* A partner platform's link (/?from=...) is not left in the address bar or this page's
     history entry: the start form carries it (docs/safety.md, "Partner platforms"). */
  if (!token && window.URLSearchParams && window.history && history.replaceState) {
    var params = new URLSearchParams(window.location.search);
    if (params.has("from")) {
      params.delete("from");
      var rest = params.toString();
      history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
    }
  }

  if (!token) { return; }

  var transcript = byId("transcript");
  var choices = byId("choices");
  var input = byId("message");
  var typing = document.createElement("p");
  typing.className = "typing";
  typing.hidden = true;
  typing.setAttribute("aria-hidden", "true");
  typing.setAttribute("data-t", "typing");
  typing.id = "typing";
  choices.parentNode.insertBefore(typing, choices);
  var status = document.createElement("p");
  status.className = "status";
  status.setAttribute("role", "status");
  typing.parentNode.insertBefore(status, typing);

  /* Phone numbers in the program's messages become tap-to-call links, as on the page
     without script (pages.py, linked): only tel: and sms:, only the parts named, and only
     where they stand alone (not inside a word, a web or an e-mail address: WORD_CHARACTER). */
  var wordCharacter = /[0-9A-Za-z\u00c0-\u024f_@]/;
  function standalone(text, where, length) {
    return !(where > 0 && wordCharacter.test(text.charAt(where - 1))) &&
      !wordCharacter.test(text.charAt(where + length));
  }
  function findStandalone(text, part, from) {
    var where = text.indexOf(part, from);
    while (where !== -1 && !standalone(text, where, part.length)) {
      where = text.indexOf(part, where + 1);
    }
    return where;
  }
  function addText(line, text, links) {
    var usable = (links || []).filter(function (link) {
      return link.text && /^(tel|sms):/.test(link.href);
    }).sort(function (a, b) { return b.text.length - a.text.length; });
    var at = 0;
    while (usable.length) {
      var next = -1, found = null;
      for (var i = 0; i < usable.length; i += 1) {
        var where = findStandalone(text, usable[i].text, at);
        if (where !== -1 && (next === -1 || where < next)) { next = where; found = usable[i]; }
      }
      if (!found) { break; }
      line.appendChild(document.createTextNode(text.slice(at, next)));
      var anchor = document.createElement("a");
      anchor.href = found.href;
      anchor.textContent = found.text;
      line.appendChild(anchor);
      at = next + found.text.length;
    }
    line.appendChild(document.createTextNode(text.slice(at)));
  }

  function addLine(kind, text, who, links) {
    var line = document.createElement("li");
    line.className = kind;
    var label = document.createElement("span");
    /* A person from the helpline is named on screen; the program and the person are not. */
    label.className = kind === "operator" ? "who" : "visually-hidden";
    if (who) { label.textContent = who; }
    else { label.setAttribute("data-t", kind); label.textContent = texts[kind] || ""; }
    line.appendChild(label);
    addText(line, " " + text, links);
    transcript.appendChild(line);
    reveal(line);
  }

  /* My plan as one card (docs/protocol.md, "card"): every text is set as text, never as markup. */
  function addCard(frame) {
    var line = document.createElement("li");
    line.className = "card";
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.setAttribute("data-t", "bot");
    label.textContent = texts.bot || "";
    line.appendChild(label);
    var card = document.createElement("article");
    card.className = "plan-card";
    var title = document.createElement("h2");
    title.textContent = frame.title;
    card.appendChild(title);
    (frame.sections || []).forEach(function (part) {
      var section = document.createElement("section");
      if (!part.heading) { section.className = "apart"; } /* words of their own, no part's */
      if (part.heading) {
        var heading = document.createElement("h3");
        heading.textContent = part.heading;
        section.appendChild(heading);
      }
      var list = document.createElement("ul");
      (part.items || []).forEach(function (item) {
        var entry = document.createElement("li");
        addText(entry, item.text, item.links);
        list.appendChild(entry);
      });
      section.appendChild(list);
      card.appendChild(section);
    });
    line.appendChild(card);
    transcript.appendChild(line);
    reveal(line);
  }

  /* Scroll just enough to show a new line (or the new choices) above the message box, which
     stays at the bottom of the screen, but never past the start of the reply. */
  function reveal(line) {
    if (!replyStart) { replyStart = line; }
    var bar = document.querySelector(".bar");
    var top = bar ? bar.getBoundingClientRect().bottom : 0;
    var dock = document.querySelector(".dock");
    var floor = Math.min(window.innerHeight, dock ? dock.getBoundingClientRect().top : Infinity);
    var below = line.getBoundingClientRect().bottom - floor + 8;
    var room = replyStart.getBoundingClientRect().top - top - 8;
    var by = Math.min(below, room);
    if (by > 0) { window.scrollBy(0, by); }
  }

  /* The old choices go while the reply to them is shown; the reply's own come with it. */
  function hideChoices() {
    if (choices.contains(document.activeElement)) {
      choicesHadFocus = true;
      focusedChoice = { value: document.activeElement.value, offered: offeredChoices() };
    }
    choices.hidden = true;
  }

  function offeredChoices() {
    var values = [];
    var buttons = choices.querySelectorAll("fieldset button");
    for (var i = 0; i < buttons.length; i += 1) { values.push(buttons[i].value); }
    return values.join("\n");
  }

  /* A request answered without new choices (a notice, a lost connection) gives the old back. */
  function showChoices() {
    choices.hidden = choices.querySelectorAll("fieldset button").length === 0;
  }

  /* Each choice is an item of a list (a text browser shows them apart); the points of a
     number scale (0 to 10) share one row, as on the page without script; a checklist item
     already picked is pressed and ticked (pressing it again takes it off). */
  function setChoices(list) {
    var items = choices.querySelector("fieldset ul");
    var hadFocus = choicesHadFocus || choices.contains(document.activeElement);
    var kept = focusedChoice;
    choicesHadFocus = false;
    focusedChoice = null;
    while (items.firstChild) { items.removeChild(items.firstChild); }
    var first = null;
    for (var j = 0; j < list.length; j += 1) {
      var item = document.createElement("li");
      if (typeof list[j].number === "number") { item.className = "number"; }
      var button = document.createElement("button");
      button.type = "submit";
      button.name = "choice";
      button.value = list[j].id;
      if (list[j].picked) {
        item.className = "picked";
        button.setAttribute("aria-pressed", "true");
        var mark = document.createElement("span");
        mark.className = "mark";
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = "\u2713 ";
        button.appendChild(mark);
      }
      button.appendChild(document.createTextNode(list[j].label));
      item.appendChild(button);
      items.appendChild(item);
      first = first || button;
    }
    choices.hidden = list.length === 0;
    if (list.length) { reveal(choices); }
    if (kept && kept.offered === offeredChoices()) {
      for (var k = 0; k < items.children.length; k += 1) {
        if (items.children[k].firstChild.value === kept.value) { first = items.children[k].firstChild; }
      }
    }
    if (hadFocus) { (first || input).focus({ preventScroll: true }); }
  }

  function setInterface(frame) {
    texts = frame.texts;
    document.documentElement.lang = frame.locale;
    document.documentElement.dir = frame.dir;
    if (texts.title) { document.title = texts.title; }
    var labelled = document.querySelectorAll("[data-t]");
    for (var i = 0; i < labelled.length; i += 1) {
      var key = labelled[i].getAttribute("data-t");
      if (Object.prototype.hasOwnProperty.call(texts, key)) { labelled[i].textContent = texts[key]; }
    }
    var languages = document.querySelectorAll('button[name="language"]');
    for (var j = 0; j < languages.length; j += 1) {
      if (languages[j].value === frame.locale) {
        languages[j].setAttribute("aria-current", "true");
      } else {
        languages[j].removeAttribute("aria-current");
      }
    }
  }

  function apply(frame) {
    if (leaving) { return; }
    /* While new lines arrive the old choices are hidden; the turn's "state" brings its own. */
    if (frame.type === "message") { hideChoices(); addLine("bot", frame.text, null, frame.links); }
    else if (frame.type === "you") { hideChoices(); addLine("you", frame.text); }
    else if (frame.type === "card") { hideChoices(); addCard(frame); }
    else if (frame.type === "operator") { hideChoices(); addLine("operator", frame.text, frame.who); }
    else if (frame.type === "notice") { addLine("notice", frame.text); awaiting = false; showChoices(); }
    else if (frame.type === "state") {
      if (frame.drawn) { drawn = frame.drawn; }
      setChoices(frame.choices); awaiting = false; replyStart = null;
    }
    else if (frame.type === "interface") { setInterface(frame); }
    else if (frame.type === "plan") { window.location.assign(frame.url); }
    else if (frame.type === "gone") { leaving = true; window.location.reload(); }
    else if (frame.type === "address") { drawn = null; readdress(frame.session, frame.csrf); }
    else if (frame.type === "session" && frame.session !== token) {
      // The conversation could not be kept and a new one started: show it (with the notice).
      leaving = true; window.location.replace("/c/" + frame.session + "#now");
    }
    else if (frame.type === "end" && frame.erase) {
      leaving = true;
      window.location.replace(erasing
        ? "/?erased=" + (frame.cancelled ? "booking" : "1") + "&lang=" + document.documentElement.lang
        : exitUrl);
    }
  }

  /* The first answer went to the conversation's own copy under a new address (whoever
     else holds the address this page was opened at never reads it): the page takes the new
     address and form token, in the address bar and in every form and link, and stays. */
  function readdress(next, nextCsrf) {
    if (typeof next !== "string" || typeof nextCsrf !== "string") { return; }
    var old = "/c/" + token;
    token = next;
    csrf = nextCsrf;
    body.setAttribute("data-session", next);
    body.setAttribute("data-csrf", nextCsrf);
    Array.prototype.forEach.call(document.querySelectorAll("form[action]"), function (form) {
      var posts = form.getAttribute("action");
      if (posts === old || posts.indexOf(old + "/") === 0) {
        form.setAttribute("action", "/c/" + next + posts.slice(old.length));
      }
    });
    Array.prototype.forEach.call(document.querySelectorAll('input[name="csrf"]'), function (field) {
      field.value = nextCsrf;
    });
    var plan = byId("plan");
    if (plan) { plan.setAttribute("href", "/c/" + next + "/plan.txt"); }
    if (window.history && history.replaceState) {
      history.replaceState(null, "", "/c/" + next + window.location.hash);
    }
  }

  /* Messages of one turn appear one after another, with the typing indicator between. */
  function pump() {
    if (pumping) { return; }
    var frame = queue.shift();
    if (!frame) { typing.hidden = !awaiting; return; }
    apply(frame);
    var next = queue[0];
    if (frame.type === "message" && next && next.type === "message") {
      pumping = true;
      typing.hidden = false;
      window.setTimeout(function () { pumping = false; pump(); }, Math.min(900, 250 + frame.text.length * 4));
    } else {
      pump();
    }
  }

  function enqueue(frames) {
    for (var i = 0; i < frames.length; i += 1) { queue.push(frames[i]); }
    pump();
  }

  function send(request, shown) {
    replyStart = null;
    var focused = choices.contains(document.activeElement);
    hideChoices();
    if (shown) { enqueue([{ type: "you", text: shown }]); }
    /* Focus waits on the conversation (as on the page without script) until new choices come. */
    var last = transcript.lastElementChild;
    if (focused && last) {
      last.tabIndex = -1;
      last.focus({ preventScroll: true });
    }
    awaiting = true;
    typing.hidden = false;
    socket.send(JSON.stringify(request));
  }

  document.addEventListener("submit", function (event) {
    if (!live) { return; }
    var form = event.target;
    var button = event.submitter || lastButton;
    var request = null;
    var shown = null;
    if (form.id === "choices" && button) {
      event.preventDefault();
      if (awaiting) { return; }
      request = { type: "choice", id: button.value, drawn: drawn };
      shown = button.textContent;
    } else if (form.id === "compose") {
      event.preventDefault();
      var text = input.value;
      if (!text.trim()) { return; }
      request = { type: "text", text: text };
      shown = text;
      input.value = "";
    } else if (form.classList.contains("command") && button) {
      request = { type: "command", command: button.value };
      shown = button.textContent;
    } else if (form.classList.contains("languages-form") && button) {
      request = { type: "command", command: "language", argument: button.value };
      shown = button.textContent;
    } else if (form.classList.contains("erase-form")) {
      erasing = true;
      request = { type: "erase" };
    }
    if (!request) { return; }
    event.preventDefault();
    send(request, shown);
  });

  var planLink = byId("plan");
  if (planLink) {
    planLink.addEventListener("click", function (event) {
      if (!live) { return; }
      event.preventDefault();
      socket.send(JSON.stringify({ type: "plan" }));
    });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws");
    } catch (failed) {
      return;
    }
    var first = true;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "resume", session: token }));
    };
    socket.onmessage = function (event) {
      var frames;
      try { frames = JSON.parse(event.data); } catch (unreadable) { return; }
      if (first && frames.every(function (frame) { return frame.type === "notice"; })) {
        /* Nothing opened (the server could not read the conversation now): the notice, and
           not live; the server closes the socket and this page tries again. */
        enqueue(frames);
        return;
      }
      if (first) {
        first = false;
        var state = frames[frames.length - 1];
        if (state && state.type === "state" && state.entries !== transcript.children.length) {
          /* Something was said while the connection was down: draw the page again. */
          leaving = true;
          window.location.reload();
          return;
        }
        live = true;
        retries = 0;
        status.textContent = "";
        body.classList.add("live");
      }
      if (!awaiting && !pumping && queue.length === 0) { replyStart = null; }
      enqueue(frames);
    };
    socket.onclose = function () {
      live = false;
      awaiting = false;
      showChoices();
      if (leaving) { return; }
      typing.hidden = true;
      status.textContent = texts.reconnecting || "";
      retries += 1;
      window.setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retries - 1)));
    };
  }

  connect();
}());
