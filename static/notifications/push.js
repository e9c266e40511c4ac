// 消息设置 › 手机推送（叮咚）: turn Web Push on or off for this browser. The service worker (/sw.js,
// registered by js/pwa.js on every page) shows the pushes; this file only subscribes and tells the server.
(function () {
  "use strict";
  const box = document.querySelector("[data-push-key]");
  if (!box) return;
  const on = box.querySelector("[data-push-on]");
  const off = box.querySelector("[data-push-off]");
  const status = box.querySelector("[data-push-status]");
  const api = box.getAttribute("data-push-api");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  function say(text) {
    status.textContent = text;
  }

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(padded);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function send(method, body) {
    return fetch(api, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify(body),
    });
  }

  function label() {
    const ua = navigator.userAgent;
    if (/Android/i.test(ua)) return "安卓手机";
    if (/iPhone|iPad/i.test(ua)) return "苹果手机";
    return "电脑浏览器";
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("这个浏览器收不到推送。可以用手机自带浏览器打开本站，添加到主屏幕后再来开启。");
    return;
  }

  navigator.serviceWorker.ready.then(async (registration) => {
    const current = await registration.pushManager.getSubscription();
    on.hidden = false;
    off.hidden = !current;
    if (current) say("这台手机已开启推送。");

    on.addEventListener("click", async () => {
      on.disabled = true;
      try {
        const permission = await Notification.requestPermission();
        if (permission !== "granted") {
          say("您没有允许通知。请在浏览器设置里允许本站发通知，再点一次“开启”。");
          return;
        }
        const subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-push-key")),
        });
        const answer = await send("POST", { ...subscription.toJSON(), label: label() });
        if (answer.ok) {
          window.location.reload();
        } else {
          const problem = await answer.json().catch(() => ({}));
          say(problem.detail || "开启没有成功，请稍后再试。");
        }
      } catch (error) {
        say("这台手机现在开不了推送（可能是网络或浏览器不支持），请稍后再试。");
      } finally {
        on.disabled = false;
      }
    });

    off.addEventListener("click", async () => {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await send("DELETE", { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      window.location.reload();
    });
  });
})();
