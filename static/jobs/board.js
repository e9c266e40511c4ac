// Board: "离我最近" asks the phone for its position and re-sorts the board nearest first.
(function () {
  "use strict";
  var button = document.getElementById("near-me");
  var status = document.getElementById("near-status");
  var form = document.getElementById("board-filters");
  if (!button || !form) return;
  button.addEventListener("click", function () {
    if (!navigator.geolocation) {
      status.textContent = "您的手机不能定位，请在“筛选”里选择区域";
      return;
    }
    status.textContent = "正在获取您的位置…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(5);
      form.elements.lng.value = pos.coords.longitude.toFixed(5);
      form.elements.sort.value = "nearest";
      form.submit();
    }, function () {
      status.textContent = "没能获取位置：请允许定位，或在“筛选”里选择区域";
    }, { timeout: 10000, maximumAge: 600000 });
  });
})();
