// Order page, check-in: with "带上位置" ticked, the form is sent with the phone's position; without a
// position (refused, no GPS, timeout) it is sent anyway and the server records a check-in without one.
(function () {
  "use strict";
  var form = document.getElementById("check-in-form");
  var use = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (!form || !use) return;
  var sending = false;
  form.addEventListener("submit", function (event) {
    if (sending || !use.checked || !navigator.geolocation) return;
    event.preventDefault();
    sending = true;
    status.textContent = "正在获取位置…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      form.submit();
    }, function () {
      status.textContent = "没能获取位置，不带位置签到";
      form.submit();
    }, { timeout: 8000, maximumAge: 60000 });
  });
})();
