// The inspector's page: draws the connections the recorder keeps, live, from /events (server-
// sent events: a `snapshot` of everything, then `update`s with what changed). Plain JavaScript
// run as it is, no build step and no framework: one lane (a <details>) per connection.
//
// Everything from the wire is set as text (textContent, text nodes), never as HTML: the bytes
// are anyone's.
'use strict';

const lanesElement = document.getElementById('lanes');
const emptyElement = document.getElementById('empty');
const statusElement = document.getElementById('status');
const pauseButton = document.getElementById('pause');

/** id → { view: the connection without its items, items: Map(id → item), element } */
const connections = new Map();
const settings = { gapMarkMs: 100, maxItemsPerConnection: 100 };
let source = null;

// ---- The feed -----------------------------------------------------------------------------

function connect() {
  source = new EventSource('/events');
  source.addEventListener('open', () => setStatus('live'));
  source.addEventListener('error', () => setStatus('reconnecting…'));
  source.addEventListener('snapshot', (event) => {
    const data = JSON.parse(event.data);
    Object.assign(settings, {
      gapMarkMs: data.gapMarkMs,
      maxItemsPerConnection: data.maxItemsPerConnection,
    });
    document.getElementById('where').textContent = `proxy ${data.proxy} → server ${data.server}`;
    for (const { element } of connections.values()) element.remove();
    connections.clear();
    for (const view of data.connections) merge(view);
    render(data.connections.map((view) => view.id));
  });
  source.addEventListener('update', (event) => {
    const data = JSON.parse(event.data);
    const kept = new Set(data.ids);
    for (const [id, lane] of connections) {
      if (kept.has(id)) continue;
      lane.element.remove();
      connections.delete(id);
    }
    for (const view of data.connections) merge(view);
    render(data.connections.map((view) => view.id));
  });
}

/** Fold a connection's changes into what the page holds. */
function merge(view) {
  let lane = connections.get(view.id);
  if (lane === undefined) {
    lane = { view, items: new Map(), element: newLane(view.id) };
    connections.set(view.id, lane);
  }
  lane.view = view;
  for (const item of view.items) lane.items.set(item.id, item);
  // The recorder keeps the newest items only; so does the page.
  const ids = [...lane.items.keys()].sort((a, b) => a - b);
  for (const id of ids.slice(0, Math.max(0, ids.length - settings.maxItemsPerConnection)))
    lane.items.delete(id);
}

// ---- Drawing ------------------------------------------------------------------------------

function render(changedIds) {
  const following = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  for (const id of changedIds) {
    const lane = connections.get(id);
    if (lane !== undefined) drawLane(lane);
  }
  // Lanes in order of their ids: oldest first, as the connections were opened.
  for (const id of [...connections.keys()].sort((a, b) => a - b))
    lanesElement.append(connections.get(id).element);
  emptyElement.hidden = connections.size > 0;
  if (following) window.scrollTo(0, document.body.scrollHeight);
}

function newLane(id) {
  const element = document.createElement('details');
  element.className = 'lane';
  element.open = true;
  element.dataset.connection = String(id);
  return element;
}

function drawLane(lane) {
  const { view, element } = lane;
  element.classList.toggle('closed', !view.open);
  const summary = document.createElement('summary');
  const heading = add(summary, 'span', 'lane-title', `Connection ${view.id}`);
  heading.title = new Date(view.openedAt).toLocaleString();
  summary.append(
    ` · ${view.client} → ${view.server} · ${view.open ? 'open' : 'closed'} · ` +
      `→ ${bytes(view.bytes['to-server'])} · ← ${bytes(view.bytes['to-client'])}`,
  );
  for (const [direction, who, other] of [
    ['to-server', 'client', 'server'],
    ['to-client', 'server', 'client'],
  ]) {
    const pressure = view.backpressure[direction];
    if (pressure.paused)
      add(
        summary,
        'span',
        'pressure',
        ` · ⏸ the ${other} is not reading: the proxy stopped reading the ${who} (${bytes(pressure.held)} waiting)`,
      );
  }
  const copy = add(summary, 'button', 'copy', 'Copy transcript');
  copy.type = 'button';
  copy.addEventListener('click', (event) => {
    event.preventDefault();
    copyTranscript(view.id, copy);
  });

  const ends = document.createElement('div');
  ends.className = 'ends';
  add(ends, 'span', '', '');
  add(ends, 'span', 'client-end', 'client');
  add(ends, 'span', 'server-end', 'server');
  const rows = [summary, ends];
  if (view.dropped > 0) rows.push(row('gap', '', `⋯ ${view.dropped} earlier items not kept ⋯`));

  let quietSince = null;
  for (const item of [...lane.items.values()].sort((a, b) => a.id - b.id)) {
    if (quietSince !== null && item.t - quietSince >= settings.gapMarkMs)
      rows.push(row('gap', '', `⋯ ${duration(item.t - quietSince)}, nothing sent ⋯`));
    rows.push(drawItem(item));
    quietSince = Math.max(quietSince ?? 0, item.kind === 'event' ? item.t : item.tEnd);
  }
  element.replaceChildren(...rows);
}

function drawItem(item) {
  if (item.kind === 'event') {
    const side = item.direction ?? 'connection';
    const element = row(`event ${side} ${item.event}`, time(item.t), item.title);
    element.dataset.event = item.event;
    return element;
  }
  const element = row(`item ${item.direction}`, time(item.t), '');
  const box = add(element.lastChild, 'div', `msg ${item.kind === 'raw' ? 'raw' : item.state}`);
  box.dataset.kind = item.kind;
  add(box, 'div', 'msg-title', item.title);
  const pre = add(box, 'pre', 'bytes');
  if (item.kind === 'raw') {
    drawFolded(pre, item.bytes);
  } else {
    drawFolded(pre, item.headBytes);
    if (item.body.total > 0) drawFolded(pre, item.body);
  }
  return element;
}

/** The bytes: each read in turn, pauses between reads marked, the folded middle as a count. */
function drawFolded(pre, folded) {
  drawSegments(pre, folded.start);
  if (folded.omitted > 0) add(pre, 'span', 'mark', `⋯ ${folded.omitted} bytes not shown ⋯`);
  drawSegments(pre, folded.end);
}

function drawSegments(pre, segments) {
  let previous = null;
  for (const segment of segments) {
    if (previous !== null && segment.t - previous.t >= settings.gapMarkMs)
      add(pre, 'span', 'mark', `⋯ ${duration(segment.t - previous.t)} later ⋯`);
    drawText(pre, segment.text);
    previous = segment;
  }
}

/** `\r`, `\n`, `\t`, `\\`, `\xHH` stand out from the printable bytes around them. */
function drawText(pre, text) {
  const parts = text.split(/(\\(?:[rnt\\]|x[0-9a-f]{2}))/);
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '') continue;
    if (i % 2 === 1) add(pre, 'span', 'esc', parts[i]);
    else pre.append(parts[i]);
  }
}

function row(className, timeText, trackText) {
  const element = document.createElement('div');
  element.className = `row ${className}`;
  add(element, 'div', 'time', timeText);
  add(element, 'div', 'track', trackText);
  return element;
}

function add(parent, tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  parent.append(element);
  return element;
}

function time(ms) {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function duration(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function bytes(count) {
  return count < 1024
    ? `${count} B`
    : count < 1024 * 1024
      ? `${(count / 1024).toFixed(1)} KiB`
      : `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

// ---- The controls -------------------------------------------------------------------------

function setStatus(text) {
  statusElement.textContent = text;
}

/** Pause closes the feed (the recorder goes on recording); resume opens it again: a fresh snapshot. */
pauseButton.addEventListener('click', () => {
  if (source !== null) {
    source.close();
    source = null;
    pauseButton.textContent = 'Resume';
    setStatus('paused: the page stands still; the proxy still records');
  } else {
    pauseButton.textContent = 'Pause';
    setStatus('connecting…');
    connect();
  }
});

document.getElementById('clear').addEventListener('click', () => {
  fetch('/clear', { method: 'POST' }).catch(() =>
    setStatus('could not clear: is the inspector still running?'),
  );
});

/** The transcript is the server's text (transcript.ts); if the clipboard is refused, show it. */
async function copyTranscript(id, button) {
  const url = `/connections/${id}/transcript`;
  try {
    const response = await fetch(url);
    await navigator.clipboard.writeText(await response.text());
    button.textContent = 'Copied ✓';
    setTimeout(() => (button.textContent = 'Copy transcript'), 1500);
  } catch {
    window.open(url, '_blank');
  }
}

connect();
