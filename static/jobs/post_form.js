// Post form: "用当前位置" fills the post's coordinates from the phone, so workers find it by distance.
(function () {
  "use strict";
  var button = document.getElementById("use-here");
  if (!button) return;
  var status = document.getElementById("here-status");
  var form = document.getElementById("post-form");
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = "您的手机不能定位，可以不填"; return; }
    status.textContent = "正在获取位置…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      status.textContent = "已记录位置，工人可按距离找到这份活";
    }, function () { status.textContent = "没能获取位置，可以不填"; }, { timeout: 10000 });
  });
})();
