/* The dashboard's charts: the 14-day trend (line) and the children compared (bars).
   Data comes from the page's json_script "rp-data" (the same shape as the API's). */
(function () {
  "use strict";
  var holder = document.getElementById("rp-data");
  if (!holder || !window.echarts) return;
  var data = JSON.parse(holder.textContent);
  var labels = {};
  data.figures.forEach(function (f) { labels[f.key] = f.label; });
  var charts = [];
  var narrow = function () { return window.innerWidth < 600; };

  // How tall a wrapping legend of these labels is in a chart `width` px wide.
  var measure = document.createElement("canvas").getContext("2d");
  measure.font = "12px sans-serif";
  var legendHeight = function (names, width) {
    var rows = 1, used = 0;
    names.forEach(function (name) {
      var item = 25 + 10 + measure.measureText(name).width;
      if (used + item > width - 10 && used > 0) { rows += 1; used = 0; }
      used += item;
    });
    return rows * 22;
  };

  // Trend: one module's figures at a time (chosen in #rp-module), first the first module
  // that reports work done (the register's counts hardly move from day to day).
  var trendBox = document.getElementById("rp-trend");
  var modulePick = document.getElementById("rp-module");
  if (trendBox) {
    var trend = echarts.init(trendBox, null, { renderer: "canvas" });
    var drawTrend = function (module) {
      var shown = data.figures.filter(function (f) { return f.module === module; });
      var top = legendHeight(shown.map(function (f) { return f.label; }), trendBox.clientWidth) + 12;
      trendBox.style.height = (240 + top) + "px";
      trend.resize();
      trend.setOption({
        animation: false,
        tooltip: { trigger: "axis", confine: true },
        legend: { type: "plain", top: 0, left: 0, itemWidth: 18, itemHeight: 8, itemGap: 10,
                  textStyle: { fontSize: 12 } },
        grid: { left: 4, right: 22, top: top, bottom: 4, containLabel: true },
        xAxis: {
          type: "category", boundaryGap: false,
          data: data.trend.days.map(function (d) { return d.slice(5); }),
          axisLabel: { hideOverlap: true }
        },
        yAxis: { type: "value", minInterval: 1 },
        series: shown.map(function (f) {
          return {
            name: f.label, type: "line", showSymbol: false, connectNulls: false,
            data: data.trend.series[f.key]
          };
        })
      }, { notMerge: true });
    };
    var working = data.modules.filter(function (m) { return m.name !== "geo"; });
    var firstModule = (working[0] || data.modules[0]).name;
    if (modulePick) {
      modulePick.value = firstModule;
      modulePick.addEventListener("change", function () { drawTrend(modulePick.value); });
    }
    drawTrend(firstModule);
    charts.push(trend);
  }

  // Children compared: horizontal bars of one figure, chosen in the select.
  var barsBox = document.getElementById("rp-children");
  var pick = document.getElementById("rp-figure");
  if (barsBox && data.children.length) {
    var rows = data.children.slice().reverse();  // first child on top
    barsBox.style.height = Math.max(160, 28 * rows.length + 48) + "px";
    var bars = echarts.init(barsBox, null, { renderer: "canvas" });
    var draw = function (key) {
      bars.setOption({
        animation: false,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: {
          type: "category",
          data: rows.map(function (c) { return c.name; }),
          axisLabel: { width: narrow() ? 84 : 160, overflow: "truncate" }
        },
        series: [{
          name: labels[key], type: "bar", barMaxWidth: 18,
          label: { show: true, position: "right" },
          data: rows.map(function (c) { return c.values[key]; })
        }]
      });
    };
    var first = data.figures.find(function (f) { return f.key === "households_left"; });
    if (pick) {
      if (first) pick.value = first.key;
      pick.addEventListener("change", function () { draw(pick.value); });
    }
    draw(pick ? pick.value : data.figures[0].key);
    charts.push(bars);
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
