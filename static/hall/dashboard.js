/* Dashboard charts with the vendored Apache ECharts 5.6.0 (static/hall/vendor). Data comes from the page
   (json_script), already filtered on the server by period and service point. Tooltips are drawn on the
   canvas (renderMode "richText"): ECharts' HTML tooltips carry style="" attributes, which the
   Content-Security-Policy refuses. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dash-data").textContent);
  var charts = [];

  function bars(id, rows, labelKey) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { data: ["可上岗求职者", "空缺名额"] },
      grid: { left: 48, right: 16, bottom: 64, top: 36 },
      xAxis: { type: "category", data: rows.map(function (r) { return r[labelKey]; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: [
        { name: "可上岗求职者", type: "bar", data: rows.map(function (r) { return r.seekers; }) },
        { name: "空缺名额", type: "bar", data: rows.map(function (r) { return r.openings; }) }
      ]
    });
    charts.push(chart);
  }

  function lines(id, rows) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { data: ["可上岗求职者", "空缺名额", "求人倍率"] },
      grid: { left: 48, right: 48, bottom: 40, top: 36 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.day; }) },
      yAxis: [{ type: "value" }, { type: "value", name: "倍率" }],
      series: [
        { name: "可上岗求职者", type: "line", data: rows.map(function (r) { return r.seekers; }) },
        { name: "空缺名额", type: "line", data: rows.map(function (r) { return r.openings; }) },
        { name: "求人倍率", type: "line", yAxisIndex: 1, data: rows.map(function (r) { return r.ratio; }) }
      ]
    });
    charts.push(chart);
  }

  bars("chart-trades", data.trades.slice(0, 15), "trade");
  bars("chart-districts", data.districts, "district");
  lines("chart-history", data.history);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.dataset.chartsReady = String(charts.length);
})();
