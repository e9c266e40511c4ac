// 叮咚: live events on our pages (docs/live.md). No framework, no inline code (the CSP forbids it).
//
// - A logged-in seeker's page (#live-alerts) opens /events/me (Server-Sent Events): a recommended post
//   shows as a large alert card with its pay, place, free slots and a one-tap 抢单 form, and chimes (a
//   "叮咚" drawn with WebAudio) unless muted here (localStorage) or the server marked it silent (quiet
//   hours, a replay). The browser reconnects by itself with Last-Event-ID; the server replays what was
//   missed.
// - Any page with [data-slots-for="<post id>"] opens /events/slots?posts=…: 还剩 N 人 ticks down live and
//   shows 已抢完 at 0 (the post page's 抢单 button is disabled then).
// - No stream (refused, Redis down, an old browser): the page polls /live/poll/… instead and tries the
//   stream again a minute later.
// window.__live counts what happened (chimes attempted, alerts shown, slot updates) for the browser tests.
(function () {
  "use strict";
  var POLL_MS = 15000;
  var RETRY_STREAM_MS = 60000;
  var MUTE_KEY = "gm-live-muted";
  var live = (window.__live = { chimes: 0, alerts: 0, slots: 0, user: "", public: "" });

  // ------------------------------------------------------------------ chime
  var audio = null;
  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    return audio;
  }
  // Browsers start sound only after the person touched the page: the first tap unlocks it.
  document.addEventListener("pointerdown", function () {
    try {
      var ctx = audioContext();
      if (ctx && ctx.state === "suspended") ctx.resume();
    } catch (e) { /* no sound on this device */ }
  }, { once: true });

  function muted() {
    try { return window.localStorage.getItem(MUTE_KEY) === "1"; } catch (e) { return false; }
  }
  function setMuted(on) {
    try { window.localStorage.setItem(MUTE_KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    document.querySelectorAll(".live-mute").forEach(function (b) { muteLabel(b); });
  }
  function muteLabel(button) {
    var on = muted();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "提示音：已关" : "提示音：开";
  }

  function chime() {
    live.chimes += 1;
    try {
      var ctx = audioContext();
      if (!ctx) return;
      if (ctx.state === "suspended") ctx.resume();
      var t = ctx.currentTime + 0.02;
      [[1318.5, 0], [987.8, 0.24]].forEach(function (note) { // 叮 (E6), then 咚 (B5)
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = note[0];
        gain.gain.setValueAtTime(0.0001, t + note[1]);
        gain.gain.exponentialRampToValueAtTime(0.5, t + note[1] + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + note[1] + 0.7);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t + note[1]);
        osc.stop(t + note[1] + 0.75);
      });
    } catch (e) { /* no sound on this device: the card still shows */ }
  }

  // ------------------------------------------------------------------ slot counts
  function slotsUpdate(ev) {
    live.slots += 1;
    document.querySelectorAll('[data-slots-for="' + ev.post + '"]').forEach(function (el) {
      el.textContent = String(ev.slots_left);
      var gone = ev.slots_left <= 0;
      var badge = el.nextElementSibling && el.nextElementSibling.classList.contains("live-full")
        ? el.nextElementSibling : null;
      if (gone && !badge) {
        badge = document.createElement("span");
        badge.className = "pill st-filled live-full";
        badge.textContent = "已抢完";
        el.insertAdjacentElement("afterend", badge);
      } else if (!gone && badge) {
        badge.remove();
      }
    });
    document.querySelectorAll('form[data-claim-for="' + ev.post + '"] button[type="submit"], ' +
                              'form[action$="/jobs/' + ev.post + '/claim/"] button[type="submit"]')
      .forEach(function (button) {
        if (!button.dataset.label) button.dataset.label = button.textContent;
        button.disabled = ev.slots_left <= 0;
        button.textContent = ev.slots_left <= 0 ? "已抢完" : button.dataset.label;
      });
  }

  function watchedPosts() {
    var ids = {};
    document.querySelectorAll("[data-slots-for]").forEach(function (el) {
      var id = parseInt(el.getAttribute("data-slots-for"), 10);
      if (id > 0) ids[id] = true;
    });
    return Object.keys(ids).slice(0, 200);
  }

  var slots = { source: null, timer: null, ids: "" };
  function slotsOpen() {
    var ids = watchedPosts().join(",");
    if (!ids || !window.EventSource) return slotsPoll(ids);
    if (slots.source && slots.ids === ids) return;
    if (slots.source) slots.source.close();
    slots.ids = ids;
    var source = (slots.source = new EventSource("/events/slots?posts=" + ids));
    source.addEventListener("slots", function (e) { slotsUpdate(JSON.parse(e.data)); });
    source.addEventListener("open", function () { live.public = "stream"; clearInterval(slots.timer); slots.timer = null; });
    source.addEventListener("fallback", function () { source.close(); slotsFallback(); });
    source.addEventListener("error", function () { if (source.readyState === 2) slotsFallback(); });
  }
  function slotsFallback() {
    slots.source = null;
    slotsPoll(slots.ids);
    setTimeout(slotsOpen, RETRY_STREAM_MS);
  }
  function slotsPoll(ids) {
    if (!ids || slots.timer) return;
    live.public = "poll";
    slots.timer = setInterval(function () {
      fetch("/live/poll/slots?posts=" + ids, { credentials: "omit", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : { events: [] }; })
        .then(function (data) { data.events.forEach(slotsUpdate); })
        .catch(function () { /* offline: try again next time */ });
    }, POLL_MS);
  }

  // ------------------------------------------------------------------ the seeker's alerts
  var root = document.getElementById("live-alerts");
  var seen = {};
  var lastId = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function card(ev) {
    var post = ev.post;
    var box = el("section", "card live-alert");
    box.setAttribute("aria-label", post ? "新活提醒" : "新消息");
    box.appendChild(el("p", "live-alert-head", post ? "叮咚！有新活适合您" : "新消息"));
    if (post) {
      box.appendChild(el("p", "live-alert-title", post.title));
      box.appendChild(el("p", "pay-big", post.pay));
      var where = el("p", "live-alert-meta", post.place + (post.start ? " · " + post.start + "开工" : "") + " · 还剩 ");
      var left = el("strong", "", String(post.slots_left));
      left.setAttribute("data-slots-for", String(post.id));
      where.appendChild(left);
      where.appendChild(document.createTextNode(" 人"));
      box.appendChild(where);
      if (post.grab && post.status === "open" && post.slots_left > 0) {
        var form = el("form", "live-alert-grab");
        form.method = "post";
        form.action = post.claim_url;
        form.setAttribute("data-claim-for", String(post.id));
        var token = el("input");
        token.type = "hidden";
        token.name = "csrfmiddlewaretoken";
        token.value = csrfToken();
        form.appendChild(token);
        form.appendChild(el("button", "btn btn-primary btn-block btn-grab", "抢单"));
        box.appendChild(form);
      }
      var more = el("a", "btn btn-secondary btn-block", post.grab ? "看详情" : "看详情、报名");
      more.href = post.url;
      box.appendChild(more);
    } else {
      box.appendChild(el("p", "", ev.text));
      var inbox = el("a", "btn btn-secondary btn-block", "看消息");
      inbox.href = "/notifications/";
      box.appendChild(inbox);
    }
    var tools = el("p", "live-alert-tools");
    var mute = el("button", "btn btn-secondary live-mute");
    mute.type = "button";
    muteLabel(mute);
    mute.addEventListener("click", function () { setMuted(!muted()); });
    var close = el("button", "btn btn-secondary", "关闭");
    close.type = "button";
    close.addEventListener("click", function () { box.remove(); });
    tools.appendChild(mute);
    tools.appendChild(close);
    box.appendChild(tools);
    return box;
  }

  function onUserEvent(ev) {
    if (ev.id > lastId) lastId = ev.id;
    live.last = ev;
    if (seen[ev.id]) return;
    seen[ev.id] = true;
    root.prepend(card(ev));
    live.alerts += 1;
    while (root.children.length > 2) root.lastElementChild.remove();
    if (ev.post) {
      if (!ev.silent && !muted()) chime();
      slotsOpen(); // the new card's count ticks too
    }
  }

  var user = { source: null, timer: null };
  function userOpen() {
    if (!window.EventSource) return userPoll();
    var url = "/events/me" + (lastId ? "?after=" + lastId : "?since=" + (root.getAttribute("data-since") || ""));
    var source = (user.source = new EventSource(url));
    source.addEventListener("message", function (e) { onUserEvent(JSON.parse(e.data)); });
    source.addEventListener("open", function () { live.user = "stream"; clearInterval(user.timer); user.timer = null; });
    source.addEventListener("fallback", function () { source.close(); userFallback(); });
    source.addEventListener("error", function () { if (source.readyState === 2) userFallback(); });
  }
  function userFallback() {
    user.source = null;
    userPoll();
    setTimeout(userOpen, RETRY_STREAM_MS);
  }
  function userPoll() {
    if (user.timer) return;
    live.user = "poll";
    var tick = function () {
      fetch("/live/poll/me" + (lastId ? "?after=" + lastId : ""), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          if (!lastId) lastId = data.cursor;
          data.events.forEach(onUserEvent);
        })
        .catch(function () { /* offline: try again next time */ });
    };
    tick();
    user.timer = setInterval(tick, POLL_MS);
  }

  if (root) userOpen();
  slotsOpen();
})();
