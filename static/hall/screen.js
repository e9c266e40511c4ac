/* Big screen (大屏): polls the point's cached data endpoint (ETag → 304 when nothing changed), pages through
   the posts by itself and refreshes without reloading the page; slot counts update live by events
   (/events/slots). No libraries. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("screen-config").textContent);
  var body = document.getElementById("screen-posts");
  var posts = [];
  var page = 0;
  var etag = null;

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(posts.length / config.pageSize));
    if (page >= pages) page = 0;
    document.getElementById("screen-page").textContent = String(page + 1);
    document.getElementById("screen-pages").textContent = String(pages);
    var rows = posts.slice(page * config.pageSize, (page + 1) * config.pageSize);
    var fragment = document.createDocumentFragment();
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = cell("暂时没有在招岗位", "screen-empty");
      td.colSpan = 7;
      tr.appendChild(td);
      fragment.appendChild(tr);
    }
    rows.forEach(function (p) {
      var tr = document.createElement("tr");
      tr.dataset.post = p.id;
      tr.appendChild(cell(p.trade, "s-trade"));
      tr.appendChild(cell(p.title + " · " + p.mode, "s-title"));
      tr.appendChild(cell(p.pay, "s-pay"));
      tr.appendChild(cell(p.place + (p.km !== null && p.km !== undefined ? "（" + p.km + "公里）" : ""), "s-place"));
      tr.appendChild(cell(p.time, "s-time"));
      tr.appendChild(cell(p.slots_left + "/" + p.slots + "人", "s-slots"));
      tr.appendChild(cell((p.verified ? "✓ " : "") + p.employer, p.verified ? "s-emp s-verified" : "s-emp"));
      fragment.appendChild(tr);
    });
    body.replaceChildren(fragment);
  }

  function figures(data) {
    Object.keys(data).forEach(function (key) {
      document.querySelectorAll('[data-figure="' + key + '"]').forEach(function (el) {
        el.textContent = String(data[key]);
      });
    });
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    // No cookies: the data is public, and a staff member logged in on the hall PC must not have their
    // session kept alive by the screen's polling (staff sessions end after 30 minutes idle).
    fetch(config.url, { headers: headers, cache: "no-cache", credentials: "omit" })
      .then(function (response) {
        if (response.status === 304 || response.ok) {
          document.getElementById("screen-at").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
        }
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        if (!data) return;
        posts = data.posts;
        figures(data.figures);
        render();
      })
      .catch(function () { /* keep showing the last data; the next poll tries again */ })
      .then(function () { setTimeout(poll, config.poll * 1000); });
  }

  // Live slot counts (docs/live.md): a claim anywhere updates its row at once; new posts still come with
  // the next poll, which stays the fallback when there is no stream.
  if (window.EventSource) {
    var source = new EventSource("/events/slots");
    source.addEventListener("slots", function (e) {
      var ev = JSON.parse(e.data);
      posts.forEach(function (p) {
        if (p.id === ev.post) p.slots_left = ev.slots_left;
      });
      posts = posts.filter(function (p) { return p.id !== ev.post || ev.slots_left > 0; });
      render();
    });
    source.addEventListener("fallback", function () { source.close(); });
  }

  setInterval(function () {
    if (posts.length > config.pageSize) {
      page += 1;
      render();
    }
  }, config.pageSeconds * 1000);
  poll();
})();
