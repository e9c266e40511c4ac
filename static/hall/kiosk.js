/* Kiosk (求职机): the on-screen numeric pad, and the inactivity timeout that ends the kiosk session and goes
   back to the start screen. No libraries. */
(function () {
  "use strict";
  document.querySelectorAll(".pad").forEach(function (pad) {
    var input = document.getElementById(pad.dataset.padFor);
    if (!input) return;
    var max = parseInt(input.getAttribute("maxlength") || "32", 10);
    pad.addEventListener("click", function (event) {
      var key = event.target.closest(".pad-key");
      if (!key) return;
      var k = key.dataset.key;
      if (k === "back") input.value = input.value.slice(0, -1);
      else if (k === "clear") input.value = "";
      else if (input.value.length < max) input.value += k;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  var timeout = parseInt(document.body.dataset.timeout || "0", 10);
  var form = document.getElementById("kiosk-timeout-form");
  var atStart = !document.querySelector(".kiosk-exit") && !/\/code\/$/.test(location.pathname);
  if (!timeout || !form) return;
  var timer = null;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (atStart) {
        // Nobody is signed in: just clear what was typed.
        document.querySelectorAll(".kiosk-input").forEach(function (el) { el.value = ""; });
        arm();
      } else {
        form.submit();
      }
    }, timeout * 1000);
  }
  ["pointerdown", "keydown", "touchstart", "input"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();
})();
