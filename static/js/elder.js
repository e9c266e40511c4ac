// 长辈模式's 朗读 (read aloud) buttons: <button class="read-aloud" data-read="id1 id2" hidden>.
// Shown only where the browser can speak Chinese (speechSynthesis with a zh voice); a tap reads the
// element's text, a second tap stops. No voice, no button: nothing is promised that cannot happen.
(function () {
  "use strict";
  var buttons = document.querySelectorAll(".read-aloud[data-read]");
  if (!buttons.length || !("speechSynthesis" in window) || !("SpeechSynthesisUtterance" in window)) {
    return;
  }
  var synth = window.speechSynthesis;

  function chineseVoice() {
    var voices = synth.getVoices() || [];
    var zh = voices.filter(function (v) {
      return (v.lang || "").replace("_", "-").toLowerCase().indexOf("zh") === 0;
    });
    var mainland = zh.filter(function (v) {
      return /^zh-(cn|hans)/i.test((v.lang || "").replace("_", "-"));
    });
    return mainland[0] || zh[0] || null;
  }

  function setPressed(pressed) {
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", pressed ? "true" : "false");
    });
  }

  function speak(button) {
    if (synth.speaking) {
      synth.cancel();
      setPressed(false);
      return;
    }
    // data-read names one or more element ids (space-separated), read in that order.
    var text = button
      .getAttribute("data-read")
      .split(/\s+/)
      .map(function (id) {
        var el = document.getElementById(id);
        return el ? el.innerText.replace(/\s+/g, " ").trim() : "";
      })
      .filter(Boolean)
      .join("。");
    var voice = chineseVoice();
    if (!text || !voice) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.voice = voice;
    utterance.rate = 0.9;
    utterance.onend = utterance.onerror = function () {
      setPressed(false);
    };
    setPressed(true);
    synth.speak(utterance);
  }

  function reveal() {
    if (!chineseVoice()) return false;
    buttons.forEach(function (b) {
      b.hidden = false;
    });
    return true;
  }

  buttons.forEach(function (b) {
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", function () {
      speak(b);
    });
  });
  if (!reveal() && synth.addEventListener) {
    // Chromium loads its voices after the page: the list arrives with a voiceschanged event.
    synth.addEventListener("voiceschanged", reveal);
  }
})();
