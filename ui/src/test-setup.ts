import "@testing-library/jest-dom/vitest";

// jsdom has no layout, so no ResizeObserver (Svelte's `bind:clientWidth`
// uses it). Sizes stay 0 in tests: components treat 0 as "not measured yet".
if (!("ResizeObserver" in globalThis)) {
  globalThis.ResizeObserver = class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  };
}
