import { attachmentDisposition } from './content-disposition';

describe('attachmentDisposition', () => {
  it('keeps an ASCII name as it is in both parameters', () => {
    expect(attachmentDisposition('report 2024.pdf')).toBe(
      `attachment; filename="report 2024.pdf"; filename*=UTF-8''report%202024.pdf`,
    );
  });

  it('percent-encodes UTF-8 in filename* and replaces it in the fallback', () => {
    expect(attachmentDisposition('Übersicht "Q1".md')).toBe(
      `attachment; filename="_bersicht _Q1_.md"; filename*=UTF-8''%C3%9Cbersicht%20%22Q1%22.md`,
    );
  });

  it("encodes the characters RFC 8187 does not allow unencoded (' ( ) *)", () => {
    expect(attachmentDisposition("it's (a)*.txt")).toContain(`filename*=UTF-8''it%27s%20%28a%29%2A.txt`);
  });
});
