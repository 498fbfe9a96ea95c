/** Activities of the minimal reference workflow: one that returns its input (no provider call). */
export function createMinimalActivities(): { deliver(input: string): Promise<string> } {
  return {
    deliver(input: string): Promise<string> {
      return Promise.resolve(input);
    },
  };
}
