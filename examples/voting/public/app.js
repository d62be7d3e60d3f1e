// The voting room page: joins the room's tally group with its history (since offset 0), draws the
// tallies over time, votes through a request to the backend worker. Everything goes through the
// Switchboard SDK (client-js, served at /sdk/ as ES modules).
import { SwitchboardClient } from "/sdk/index.js";

const params = new URLSearchParams(location.search);
const room = params.get("room") || "demo";
const group = `votes:${room}`;
const $ = (id) => document.getElementById(id);
$("room").textContent = room;

// One voter per tab: the user id lives in sessionStorage, the server signs a token for it.
let user = sessionStorage.getItem("voting.user") || "";
async function fetchToken() {
  const answer = await fetch(`/token?user=${encodeURIComponent(user)}`);
  if (!answer.ok) {
    throw new Error(`token: HTTP ${answer.status}`);
  }
  const { token, user: issued } = await answer.json();
  user = issued;
  sessionStorage.setItem("voting.user", user);
  $("user").textContent = user;
  return token;
}

const transports = params.get("transport") === "longpoll" ? ["longpoll"] : undefined;
const client = new SwitchboardClient({
  token: fetchToken,
  transports,
  webSocketRetryMs: Number(params.get("wsRetryMs") || 60000),
  backoff: { initialMs: 250, maxMs: 5000 },
});

// What the page has seen, for people (the chart) and for tests (window.__voting).
const tallies = []; // { offset, t, yes, no }
const states = [];
window.__voting = { tallies, states, client };

client.onState((event) => {
  states.push({ ...event, at: Date.now() });
  const status = $("status");
  status.className = `status ${event.state}`;
  status.textContent =
    event.state === "lost"
      ? `reconnecting in ${(event.retryInMs / 1000).toFixed(1)} s…`
      : event.state === "closed"
        ? `closed (${event.code})`
        : `${event.state} · ${client.transport}`;
});

client.on(group, (message) => {
  const { votes = {} } = message.json();
  tallies.push({ offset: message.offset, t: message.timestampMs, yes: votes.yes ?? 0, no: votes.no ?? 0 });
  $("yes").textContent = votes.yes ?? 0;
  $("no").textContent = votes.no ?? 0;
  $("points").textContent = tallies.length;
  $("offset").textContent = message.offset;
  draw();
});

async function vote(choice) {
  try {
    const reply = await client.post(`/votes/${encodeURIComponent(room)}`, choice, { timeoutMs: 5000 });
    $("mine").textContent = reply.ok ? `You voted ${choice}.` : `Vote refused: ${reply.text()}`;
  } catch (e) {
    $("mine").textContent = `Vote not counted (${e.code ?? e}); try again.`;
  }
}
$("vote-yes").onclick = () => vote("yes");
$("vote-no").onclick = () => vote("no");
window.__voting.vote = vote;

function draw() {
  const canvas = $("chart");
  const g = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  const pad = { l: 44, r: 16, t: 16, b: 30 };
  g.clearRect(0, 0, W, H);
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#666";
  if (tallies.length === 0) {
    g.fillText("No votes yet — the tally appears here once someone votes.", pad.l, H / 2);
    return;
  }
  const t0 = tallies[0].t;
  const t1 = Math.max(Date.now(), tallies[tallies.length - 1].t + 1000);
  const top = Math.max(1, ...tallies.map((p) => Math.max(p.yes, p.no)));
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - (v / top) * (H - pad.t - pad.b);
  g.strokeStyle = "#ddd";
  g.lineWidth = 1;
  for (let v = 0; v <= top; v += Math.max(1, Math.ceil(top / 5))) {
    g.beginPath();
    g.moveTo(pad.l, y(v));
    g.lineTo(W - pad.r, y(v));
    g.stroke();
    g.fillText(String(v), 12, y(v) + 4);
  }
  const seconds = Math.round((t1 - t0) / 1000);
  g.fillText("0 s", pad.l, H - 10);
  g.fillText(`${seconds} s`, W - pad.r - 30, H - 10);
  for (const [key, color] of [["yes", "#1f7a3f"], ["no", "#c0392b"]]) {
    g.strokeStyle = color;
    g.lineWidth = 2.5;
    g.beginPath();
    tallies.forEach((p, i) => {
      if (i === 0) {
        g.moveTo(x(p.t), y(p[key]));
      } else {
        g.lineTo(x(p.t), y(tallies[i - 1][key])); // a tally holds until the next one
        g.lineTo(x(p.t), y(p[key]));
      }
    });
    g.lineTo(x(t1), y(tallies[tallies.length - 1][key]));
    g.stroke();
  }
}
setInterval(draw, 1000);
draw();

await client.connect();
// The room's history so far (every tally since offset 0), then live tallies.
await client.join(group, { since: 0 });
