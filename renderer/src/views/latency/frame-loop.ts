/**
 * One requestAnimationFrame loop for every latency plot: each plot registers a draw callback that returns at once
 * when its series has nothing new, so 50 plots cost one frame callback, and a frame with no new batch costs nothing.
 */
type Draw = () => void;
const draws = new Set<Draw>();
let frame = 0;

function tick(): void {
  for (const draw of draws) draw();
  frame = draws.size ? requestAnimationFrame(tick) : 0;
}

export function onFrame(draw: Draw): () => void {
  draws.add(draw);
  if (!frame) frame = requestAnimationFrame(tick);
  return () => {
    draws.delete(draw);
    if (!draws.size && frame) {
      cancelAnimationFrame(frame);
      frame = 0;
    }
  };
}
