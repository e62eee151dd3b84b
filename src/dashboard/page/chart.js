// The detail charts: two uPlot instances with a shared cursor and x range, the value (reading and
// prediction) on top, the anomaly score with its threshold line and alert markers below. Alert
// stretches are shaded on both charts. Drag on a chart to zoom into a time window.
'use strict';

window.SeqCharts = (function () {
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  // 24-hour clock labels, with milliseconds when the ticks are less than a second apart.
  const clock = (u, splits) => {
    const fine = splits.length > 1 && splits[1] - splits[0] < 1;
    return splits.map((s) => {
      const d = new Date(s * 1000);
      const hms = d.toLocaleTimeString('en-GB');
      return fine ? hms + '.' + String(d.getMilliseconds()).padStart(3, '0') : hms;
    });
  };
  const axis = () => ({ stroke: color('--muted'), grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: color('--line'), width: 1 }, font: '11px system-ui' });

  // Shades every run of alert points (data[alertIndex] non-null) across the plot's height.
  function alertBands(getAlerts) {
    return {
      hooks: {
        drawClear: (u) => {
          const alerts = getAlerts();
          const xs = u.data[0];
          if (!alerts || xs.length === 0) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = 'rgba(255, 93, 93, 0.16)';
          const top = u.bbox.top;
          const height = u.bbox.height;
          for (let i = 0; i < xs.length; i++) {
            if (!alerts[i]) continue;
            let j = i;
            while (j + 1 < xs.length && alerts[j + 1]) j++;
            const x0 = u.valToPos(xs[i], 'x', true);
            const x1 = u.valToPos(xs[j], 'x', true);
            ctx.fillRect(Math.min(x0, x1) - 2, top, Math.max(4, Math.abs(x1 - x0) + 4), height);
            i = j;
          }
          ctx.restore();
        },
      },
    };
  }

  function create(valueEl, scoreEl, getAlerts, onZoom) {
    const sync = uPlot.sync('seqstream');
    const cursor = { sync: { key: sync.key, setSeries: false }, drag: { x: true, y: false, setScale: true } };
    const hooks = { setSelect: [(u) => { if (u.select.width > 2) onZoom(); }] };
    const size = (el) => ({ width: Math.max(200, el.clientWidth - 12), height: Math.max(100, el.clientHeight - 4) });
    const value = new uPlot({
      ...size(valueEl),
      cursor, hooks, legend: { show: false },
      plugins: [alertBands(getAlerts)],
      scales: { x: { time: true } },
      axes: [{ ...axis(), values: clock }, { ...axis(), size: 56 }],
      series: [
        {},
        { label: 'reading', stroke: color('--accent'), width: 1.5, spanGaps: false },
        { label: 'prediction', stroke: color('--pred'), width: 1.2, dash: [4, 3], spanGaps: false },
      ],
    }, [[], [], []], valueEl);
    const score = new uPlot({
      ...size(scoreEl),
      cursor, hooks, legend: { show: false },
      plugins: [alertBands(getAlerts)],
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{ ...axis(), values: clock }, { ...axis(), size: 56 }],
      series: [
        {},
        { label: 'score', stroke: color('--score'), width: 1.5, fill: 'rgba(180, 140, 255, 0.10)', spanGaps: false },
        { label: 'threshold', stroke: color('--alert'), width: 1, dash: [6, 4], points: { show: false } },
        { label: 'alert', stroke: color('--alert'), width: 0, paths: () => null, points: { show: true, size: 7, fill: color('--alert'), stroke: color('--alert') } },
      ],
    }, [[], [], [], []], scoreEl);
    sync.sub(value);
    sync.sub(score);
    const resize = () => {
      value.setSize(size(valueEl));
      score.setSize(size(scoreEl));
    };
    window.addEventListener('resize', resize);
    return {
      // data: { t (s), value, prediction, score, threshold, alertMarks }
      // range: [min, max] in s (a live window), null (fit all) or 'keep' (the user's zoom)
      set(data, range) {
        const fit = range === null;
        value.setData([data.t, data.value, data.prediction], fit);
        score.setData([data.t, data.score, data.threshold, data.alertMarks], fit);
        if (Array.isArray(range)) {
          value.setScale('x', { min: range[0], max: range[1] });
          score.setScale('x', { min: range[0], max: range[1] });
        }
      },
      resize,
    };
  }

  return { create };
})();
