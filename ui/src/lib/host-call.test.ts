// The one way a form calls the host: a second submit while one runs does
// nothing, a failure leaves its code (not its text), trying again clears it.

import { describe, expect, it } from "vitest";
import { HostError } from "./host";
import { HostCall } from "./host-call.svelte";

describe("a form's call to the host", () => {
  it("runs one call at a time, keeps the failure's code and clears it on the next try", async () => {
    const call = new HostCall();
    let release!: () => void;
    let runs = 0;
    const first = call.run(async () => {
      runs += 1;
      await new Promise<void>((resolve) => (release = resolve));
    });
    expect(call.busy).toBe(true);
    expect(await call.run(async () => void (runs += 1)), "a second submit does nothing").toBe(
      false,
    );
    release();
    expect(await first).toBe(true);
    expect([runs, call.busy, call.failure]).toEqual([1, false, null]);

    const failed = await call.run(async () => {
      throw new HostError("wrong_password", "密码不对");
    });
    expect([failed, call.busy, call.failure]).toEqual([false, false, "wrong_password"]);

    const again = call.run(async () => {});
    expect(call.failure, "trying again clears the old failure").toBeNull();
    expect(await again).toBe(true);
  });
});
