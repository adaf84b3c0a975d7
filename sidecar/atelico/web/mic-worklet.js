// AudioWorklet that hands the microphone's samples (first channel, float32) to the page.
// Loaded by transcribe.js with audioWorklet.addModule('/static/mic-worklet.js').

class MicTap extends AudioWorkletProcessor {
  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0 && input[0].length > 0) {
      // copy: the engine reuses its buffers after process() returns
      this.port.postMessage(input[0].slice(0));
    }
    return true;
  }
}

registerProcessor('atelico-mic-tap', MicTap);
