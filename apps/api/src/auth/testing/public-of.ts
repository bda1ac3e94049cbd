/** A class's public members only: what a fake must offer to stand in for it. */
export type PublicOf<T> = { [K in keyof T]: T[K] };
