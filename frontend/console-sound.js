/* Expert console (templates/console.html), part: the sound. A short chime made
   on the spot (no audio files) when a chat comes in, the sound switch in the
   header (remembered in localStorage as "console.sound") and the unlock of the
   browser's audio on the first gesture.

   A classic script, loaded deferred after frontend/live.js and before
   frontend/console.js, which calls Console.sound(app) once. From the shared
   `app` it reads root, S (the translated strings), state.sound and toast();
   it sets state.sound from storage and adds app.chime() and app.renderSound(). */
(function () {
  "use strict";

  const Console = (window.Console = window.Console || {});

  let audioContext = null;

  function audio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audioContext) audioContext = new Context();
    if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
    return audioContext;
  }

  /* A short two-note chime, generated on the spot (no audio files). */
  function chime() {
    const ctx = audio();
    if (!ctx) return;
    const start = ctx.currentTime + 0.02;
    [
      [659.25, 0],
      [987.77, 0.13],
    ].forEach(([frequency, offset]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.14, start + offset + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.32);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + offset);
      osc.stop(start + offset + 0.35);
    });
  }

  Console.sound = function (app) {
    const { state, S } = app;
    const soundToggle = app.root.querySelector('[data-testid="sound-toggle"]');

    try {
      state.sound = localStorage.getItem("console.sound") === "on";
    } catch (_) {
      /* storage blocked */
    }

    function renderSound() {
      soundToggle.setAttribute("aria-pressed", state.sound ? "true" : "false");
    }

    soundToggle.addEventListener("click", () => {
      state.sound = !state.sound;
      try {
        localStorage.setItem("console.sound", state.sound ? "on" : "off");
      } catch (_) {
        /* storage blocked */
      }
      renderSound();
      if (state.sound) {
        chime();
        app.toast(S.sound_test);
      }
    });

    // Browsers only start audio after a user gesture: unlock it on the first one.
    const unlockAudio = () => {
      if (state.sound) audio();
      window.removeEventListener("pointerdown", unlockAudio);
      window.removeEventListener("keydown", unlockAudio);
    };
    window.addEventListener("pointerdown", unlockAudio);
    window.addEventListener("keydown", unlockAudio);

    Object.assign(app, { chime: chime, renderSound: renderSound });
  };
})();
