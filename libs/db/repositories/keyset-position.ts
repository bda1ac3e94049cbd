/** Where a keyset page starts: the sort time and id of the last row of the page before (exclusive). */
export interface KeysetPosition {
  at: Date;
  id: string;
}
