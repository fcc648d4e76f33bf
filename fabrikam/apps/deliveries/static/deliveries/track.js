/* The tracking page, kept current: Server-Sent Events from /api/deliveries/{id}/stream, or polling
   /status and /events when the stream is refused (503: too many watchers) or unsupported. Stops
   once the delivery is completed or cancelled. No framework, no external resources. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("tracking-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var W = 400, H = 260, PAD = 34;
  var state = {
    delivery: config.delivery,
    status: config.status,
    events: config.events.slice(),
    trail: [],
    finished: false,
  };
  var source = null;
  var pollTimer = null;

  function $(id) { return document.getElementById(id); }

  function isClosed(stage) { return config.closedStages.indexOf(stage) !== -1; }

  function fixed(value) { return Number(value).toFixed(5); }

  function where(location) { return fixed(location.latitude) + ", " + fixed(location.longitude); }

  function km(a, b) {
    var rad = Math.PI / 180, R = 6371.0088;
    var dLat = (b.latitude - a.latitude) * rad, dLon = (b.longitude - a.longitude) * rad;
    var h = Math.pow(Math.sin(dLat / 2), 2) +
      Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.pow(Math.sin(dLon / 2), 2);
    return 2 * R * Math.asin(Math.sqrt(h));
  }

  function distanceText(value) {
    return value < 1 ? Math.round(value * 1000) + " m" : value.toFixed(1) + " km";
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function relative(iso) {
    var seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    if (seconds <= 0) { return "due now"; }
    var minutes = Math.floor(seconds / 60), rest = seconds % 60;
    if (minutes >= 60) { return "in " + Math.floor(minutes / 60) + " h " + (minutes % 60) + " min"; }
    return "in " + (minutes ? minutes + " min " : "") + rest + " s";
  }

  function node(name, attributes, parent) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (parent) { parent.appendChild(element); }
    return element;
  }

  /* --- the status card --- */

  function renderEta(id, iso, reached) {
    var target = $(id);
    target.textContent = "";
    if (!iso) { target.textContent = "Not known yet"; return; }
    var time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = clock(iso);
    target.appendChild(time);
    if (!reached && !state.finished) {
      var more = document.createElement("span");
      more.className = "relative";
      more.textContent = relative(iso);
      target.appendChild(more);
    }
  }

  function renderStatus() {
    var status = state.status, stage = status.stage;
    $("tracking").dataset.stage = stage;
    var text = config.stageText[stage] || stage;
    if ($("stage").textContent !== text) { $("stage").textContent = text; }
    var current = -1;
    config.steps.forEach(function (step, index) { if (step[1].indexOf(stage) !== -1) { current = index; } });
    Array.prototype.forEach.call($("progress").children, function (item, index) {
      var reached = index < current || (index === current && stage === "Completed");
      item.className = [reached ? "done" : "", index === current ? "current" : ""].join(" ").trim();
      if (index === current) { item.setAttribute("aria-current", "step"); } else { item.removeAttribute("aria-current"); }
    });
    var pickedUp = stage === "HeadedToDropoff" || stage === "Completed";
    $("pickup-eta-label").textContent = pickedUp ? "Picked up" : "Pickup";
    $("delivery-eta-label").textContent = stage === "Completed" ? "Delivered" : "Estimated delivery";
    renderEta("pickup-eta", status.pickupETA, pickedUp);
    renderEta("delivery-eta", status.deliveryETA, stage === "Completed");
  }

  function renderEvents() {
    var list = $("events");
    list.textContent = "";
    state.events.slice().reverse().forEach(function (event) {
      var item = document.createElement("li");
      item.dataset.stage = event.stage;
      var time = document.createElement("time");
      time.dateTime = event.timestamp;
      time.textContent = clock(event.timestamp);
      var text = document.createElement("span");
      text.textContent = config.stageText[event.stage] || event.stage;
      item.appendChild(time);
      item.appendChild(text);
      list.appendChild(item);
    });
    if (!state.events.length) {
      var empty = document.createElement("li");
      empty.textContent = "No events yet.";
      list.appendChild(empty);
    }
  }

  /* --- the map: an SVG plot of pickup, drop-off and the drone, scaled to fit them --- */

  function projection(points) {
    var lats = points.map(function (p) { return p.latitude; });
    var lons = points.map(function (p) { return p.longitude; });
    var minLat = Math.min.apply(null, lats), maxLat = Math.max.apply(null, lats);
    var minLon = Math.min.apply(null, lons), maxLon = Math.max.apply(null, lons);
    var shrink = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    var spanX = Math.max((maxLon - minLon) * shrink, 1e-4), spanY = Math.max(maxLat - minLat, 1e-4);
    var scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
    var offsetX = (W - spanX * scale) / 2, offsetY = (H - spanY * scale) / 2;
    return {
      x: function (p) { return offsetX + (p.longitude - minLon) * shrink * scale; },
      y: function (p) { return H - offsetY - (p.latitude - minLat) * scale; },
      kmPerUnit: (111.32 / scale),
    };
  }

  function renderMap() {
    var svg = $("map"), pickup = state.delivery.pickup, dropoff = state.delivery.dropoff;
    var drone = state.status.lastKnownLocation;
    var project = projection([pickup, dropoff, drone].concat(state.trail));
    svg.textContent = "";
    var grid = node("g", { class: "grid", "aria-hidden": "true" }, svg);
    for (var x = 40; x < W; x += 40) { node("line", { x1: x, y1: 0, x2: x, y2: H }, grid); }
    for (var y = 40; y < H; y += 40) { node("line", { x1: 0, y1: y, x2: W, y2: y }, grid); }

    node("line", {
      class: "route", x1: project.x(pickup), y1: project.y(pickup), x2: project.x(dropoff), y2: project.y(dropoff),
    }, svg);
    if (state.trail.length > 1) {
      node("polyline", {
        class: "trail",
        points: state.trail.map(function (p) { return project.x(p).toFixed(1) + "," + project.y(p).toFixed(1); }).join(" "),
      }, svg);
    }
    [["pickup", "Pickup", pickup], ["dropoff", "Drop-off", dropoff]].forEach(function (place) {
      var group = node("g", { id: place[0] + "-marker", class: "place" }, svg);
      var px = project.x(place[2]), py = project.y(place[2]);
      node("title", {}, group).textContent = place[1] + " at " + where(place[2]);
      node("rect", { class: "place-" + place[0], x: px - 7, y: py - 7, width: 14, height: 14, rx: 3 }, group);
      var label = node("text", { class: "place-label place-" + place[0], x: px, y: py - 12, "text-anchor": "middle" }, group);
      label.textContent = place[1];
    });
    var dx = project.x(drone), dy = project.y(drone);
    var marker = node("g", {
      id: "drone-marker", class: "drone", transform: "translate(" + dx.toFixed(1) + " " + dy.toFixed(1) + ")",
      "data-latitude": drone.latitude, "data-longitude": drone.longitude,
    }, svg);
    node("title", {}, marker).textContent = "Drone at " + where(drone);
    node("circle", { class: "drone-halo", r: 14 }, marker);
    node("circle", { class: "drone-body", r: 7 }, marker);

    var barKm = niceKm(project.kmPerUnit * 80);
    var barPx = barKm / project.kmPerUnit;
    var scale = node("g", { "aria-hidden": "true" }, svg);
    node("line", { class: "scale", x1: 12, y1: H - 12, x2: 12 + barPx, y2: H - 12 }, scale);
    node("text", { class: "scale-label", x: 12, y: H - 18 }, scale).textContent = distanceText(barKm);

    $("drone-coords").textContent = where(drone);
    $("map-text").textContent = mapSentence(drone, pickup, dropoff);
  }

  function niceKm(value) {
    var steps = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];
    for (var i = steps.length - 1; i >= 0; i--) { if (steps[i] <= value) { return steps[i]; } }
    return steps[0];
  }

  function mapSentence(drone, pickup, dropoff) {
    var stage = state.status.stage, at = "The drone is at " + where(drone);
    if (stage === "Completed") { return "The drone delivered your package at " + where(dropoff) + "."; }
    if (stage === "Cancelled") { return "This delivery was cancelled. The drone was last at " + where(drone) + "."; }
    if (stage === "HeadedToDropoff") { return at + ", " + distanceText(km(drone, dropoff)) + " from the drop-off."; }
    return at + ", " + distanceText(km(drone, pickup)) + " from the pickup and " +
      distanceText(km(pickup, dropoff)) + " between pickup and drop-off.";
  }

  /* --- updates --- */

  function remember(location) {
    var last = state.trail[state.trail.length - 1];
    if (!last || last.latitude !== location.latitude || last.longitude !== location.longitude) {
      state.trail.push(location);
    }
  }

  function applyStatus(status) {
    state.status = status;
    if (state.status.stage === "HeadedToPickup" || state.status.stage === "HeadedToDropoff") {
      remember(status.lastKnownLocation);
    }
    if (isClosed(status.stage)) { finish(); }
    renderStatus();
    renderMap();
  }

  function applyEvent(event, offset) {
    if (offset >= 0) { state.events[offset] = event; } else { state.events.push(event); }
    renderEvents();
  }

  function setConnection(mode, text) {
    $("connection").dataset.mode = mode;
    $("connection").textContent = text;
  }

  function finish() {
    if (state.finished) { return; }
    state.finished = true;
    if (source) { source.close(); source = null; }
    if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
    setConnection("ended", "Tracking has ended.");
  }

  function connect() {
    if (!window.EventSource) { poll(); return; }
    source = new EventSource(config.urls.stream);
    source.addEventListener("open", function () { setConnection("live", "Live: updates as the drone flies."); });
    source.addEventListener("tracking", function (message) {
      applyEvent(JSON.parse(message.data), Number(message.lastEventId));
    });
    source.addEventListener("status", function (message) { applyStatus(JSON.parse(message.data)); });
    source.addEventListener("end", function () { finish(); });
    source.addEventListener("error", function () {
      // CONNECTING: the browser retries by itself (resuming after the last event id). CLOSED: the
      // stream was refused (e.g. 503, too many watchers), so poll instead.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        poll();
      } else if (!state.finished) {
        setConnection("polling", "Reconnecting…");
      }
    });
  }

  function poll() {
    if (state.finished) { return; }
    setConnection("polling", "Checking for updates every " + config.pollSeconds + " s.");
    Promise.all([fetch(config.urls.status), fetch(config.urls.events)])
      .then(function (responses) {
        if (!responses[0].ok || !responses[1].ok) { throw new Error("status " + responses[0].status); }
        return Promise.all([responses[0].json(), responses[1].json()]);
      })
      .then(function (bodies) {
        state.events = bodies[1];
        renderEvents();
        applyStatus(bodies[0]);
      })
      .catch(function () { setConnection("polling", "Can't reach the server; trying again."); })
      .then(function () {
        if (!state.finished) { pollTimer = setTimeout(poll, config.pollSeconds * 1000); }
      });
  }

  state.events.forEach(function (event) {
    if (event.stage === "HeadedToPickup" || event.stage === "HeadedToDropoff") { remember(event.location); }
  });
  renderEvents();
  applyStatus(state.status);
  if (!state.finished) {
    connect();
    setInterval(function () { if (!state.finished) { renderStatus(); } }, 1000);
  }
})();
