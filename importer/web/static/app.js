// bsg-import page: a little plain JavaScript, no library, no build step.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  dropzone();
  autosubmit();
  followJob();
  followRunning();
});

// Home's "Running now": each run's rows done, updated every two seconds.
function followRunning() {
  const number = new Intl.NumberFormat();
  document.querySelectorAll(".running-job").forEach((item) => {
    const tick = async () => {
      try {
        const answer = await fetch(item.dataset.statusUrl, { headers: { Accept: "application/json" } });
        const status = await answer.json();
        item.querySelector(".done").textContent = number.format(status.done);
        item.querySelector(".total").textContent = number.format(status.total);
        if (status.state !== "running") return;
      } catch (error) { /* the next tick tries again */ }
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 1000);
  });
}

// Drop a file on the upload area, or choose one: either way it is sent at once.
function dropzone() {
  const form = document.getElementById("upload");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  input.addEventListener("change", () => { if (input.files.length) form.submit(); });
  ["dragenter", "dragover"].forEach((name) => form.addEventListener(name, (event) => {
    event.preventDefault();
    form.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => form.addEventListener(name, () => form.classList.remove("over")));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    form.submit();
  });
}

// A changed role or sheet updates the preview (the server decides roles as the command does).
// One phone column: choosing another one makes the previous one "not sent".
function autosubmit() {
  document.querySelectorAll("[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => {
      if (select.value === "phone") {
        document.querySelectorAll("select[id^=role-]").forEach((other) => {
          if (other !== select && other.value === "phone") other.value = "skip";
        });
      }
      document.getElementById("update").click();
    });
  });
}

// A running job: poll its status every second; reload once it has ended to show the results.
function followJob() {
  const card = document.getElementById("job");
  if (!card || card.dataset.state !== "running") return;
  const number = new Intl.NumberFormat();
  const text = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  const tick = async () => {
    let status;
    try {
      const answer = await fetch(card.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!answer.ok) throw new Error(String(answer.status));
      status = await answer.json();
    } catch (error) {
      setTimeout(tick, 3000);
      return;
    }
    if (status.state !== "running") { window.location.reload(); return; }
    const bar = document.getElementById("progress");
    if (bar) { bar.max = status.total || 1; bar.value = status.done; }
    text("done", number.format(status.done));
    text("total", number.format(status.total));
    text("rate", status.rate === null ? "–" : number.format(Math.round(status.rate)));
    text("left", status.seconds_left === null ? "–" : duration(status.seconds_left));
    text("elapsed", duration(status.elapsed));
    text("state", status.stopping ? "stopping…" : status.state);
    document.getElementById("waiting").hidden = !status.waiting;
    const hlr = document.getElementById("hlr-waiting");
    hlr.hidden = !status.hlr_waiting;
    hlr.textContent = status.hlr_waiting || "";
    const counts = document.getElementById("counts");
    if (counts) {
      counts.replaceChildren(...Object.keys(status.counts).sort().map((name) => {
        const item = document.createElement("li");
        item.className = "status-" + name;
        const strong = document.createElement("strong");
        strong.textContent = number.format(status.counts[name]);
        item.append(strong, " " + (name === "validated" ? "would be created" : name));
        return item;
      }));
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 500);
}

function duration(seconds) {
  seconds = Math.round(seconds);
  if (seconds < 60) return seconds + " s";
  const minutes = Math.floor(seconds / 60);
  return minutes + " min " + String(seconds % 60).padStart(2, "0") + " s";
}
