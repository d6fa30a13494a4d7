import { describe, expect, it } from 'vitest';
import { FlowControl } from './flow-control';

describe('FlowControl', () => {
  it('pauses once the unacknowledged bytes pass the window, and only once', () => {
    const flow = new FlowControl(100);
    expect(flow.produced(60)).toBe(false);
    expect(flow.produced(40)).toBe(false);
    expect(flow.produced(1)).toBe(true);
    expect(flow.produced(50)).toBe(false);
    expect(flow.paused).toBe(true);
    expect(flow.unacknowledged).toBe(151);
  });

  it('resumes when the consumer has caught up to half the window', () => {
    const flow = new FlowControl(100);
    flow.produced(150);
    expect(flow.acknowledged(50)).toBe(false);
    expect(flow.acknowledged(49)).toBe(false);
    expect(flow.acknowledged(1)).toBe(true);
    expect(flow.paused).toBe(false);
  });

  it('never counts below zero when a consumer over-acknowledges', () => {
    const flow = new FlowControl(100);
    flow.produced(10);
    expect(flow.acknowledged(1000)).toBe(false);
    expect(flow.unacknowledged).toBe(0);
  });

  it('refuses a window that could never open', () => {
    expect(() => new FlowControl(0)).toThrow(RangeError);
  });
});
