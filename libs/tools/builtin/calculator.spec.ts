import * as fc from 'fast-check';
import { ToolError } from '../tool-definition';
import { createCalculatorTool, evaluateExpression } from './calculator';

function failure(expression: string): ToolError {
  try {
    evaluateExpression(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    return error as ToolError;
  }
  throw new Error(`"${expression}" evaluated without an error`);
}

describe('evaluateExpression', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['7 % 4 * 2', 6],
    ['2 ^ 3 ^ 2', 512], // right-associative: 2^(3^2), not (2^3)^2 = 64
    ['2 * 3 ^ 2', 18],
    ['-2 ^ 2', -4], // power binds tighter than unary minus
    ['2 ^ -1', 0.5],
    ['--3', 3],
    ['-(4 - 6) * +2', 4],
    ['1.5e3 + .5', 1500.5],
    ['2.5E-1', 0.25],
  ])('%s = %d', (expression, value) => {
    expect(evaluateExpression(expression)).toBeCloseTo(value, 12);
  });

  it.each([
    ['sqrt(16) + abs(-3)', 7],
    ['round(2.5) + floor(2.7) + ceil(2.1)', 8],
    ['ln(e) + log10(1000)', 4],
    ['sin(pi / 2) + cos(0) + tan(0)', 2],
    ['min(3, 1, 2) + max(3, 1 + 4, 2)', 6],
    ['max(2)', 2],
    ['SQRT(4) * PI / pi', 2],
  ])('functions and constants: %s = %d', (expression, value) => {
    expect(evaluateExpression(expression)).toBeCloseTo(value, 12);
  });

  it('agrees with JavaScript arithmetic on random sums and products of integers', () => {
    const term = fc.integer({ min: -1000, max: 1000 });
    fc.assert(
      fc.property(term, term, term, (a, b, c) => {
        const text = (n: number): string => (n < 0 ? `(${n})` : String(n));
        expect(evaluateExpression(`${text(a)} + ${text(b)} * ${text(c)}`)).toBe(a + b * c);
        expect(evaluateExpression(`${text(a)} - ${text(b)} - ${text(c)}`)).toBe(a - b - c);
      }),
    );
  });

  it('answers any input with a number or a ToolError, never another exception', () => {
    const alphabet = fc.constantFrom(...'0123456789.eE+-*/%^(), piqsrtaxmnl$'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 40 }), (expression) => {
        try {
          expect(Number.isFinite(evaluateExpression(expression))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ToolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['1 / 0', 'Division by zero'],
    ['5 % (2 - 2)', 'Division by zero (modulo)'],
    ['foo + 1', 'Unknown name "foo" at position 1'],
    ['2 * exp(1)', 'Unknown function "exp" at position 5'],
    ['1 + 2 3', 'Unexpected "3" at position 7'],
    ['(1 + 2', 'Unexpected end of expression: expected ")"'],
    ['1 +', 'Unexpected end of expression: expected a number, a name or "("'],
    ['2 $ 3', 'Unexpected character "$" at position 3'],
    ['process.exit()', 'Unexpected character "." at position 8'],
    ['sqrt(1, 2)', 'sqrt takes one argument, got 2'],
    ['sqrt(-1)', 'The result is not a finite number'],
    ['10 ^ 400', 'The result is not a finite number'],
    ['', 'Empty expression'],
  ])('%j fails with "%s"', (expression, message) => {
    const error = failure(expression);
    expect(error.message).toBe(message);
    expect(error.retryable).toBe(false);
  });

  it('refuses an expression longer than 500 characters', () => {
    expect(failure(`1${'+1'.repeat(250)}`).message).toBe('Expression too long (501 characters, at most 500)');
    expect(evaluateExpression(`1${'+1'.repeat(249)}`)).toBe(250);
  });
});

describe('calculator tool', () => {
  const ctx = { userId: 'u1', turnId: 't1', signal: new AbortController().signal };

  it('answers with the expression and its value, without floating-point noise', async () => {
    const tool = createCalculatorTool();
    expect(await tool.run({ expression: '12 * (3 + 4)' }, ctx)).toEqual({
      content: '12 * (3 + 4) = 84',
      summary: '12 * (3 + 4) = 84',
    });
    expect((await tool.run({ expression: ' 0.1 + 0.2 ' }, ctx)).content).toBe('0.1 + 0.2 = 0.3');
  });

  it('reports a bad expression as a rejected promise carrying the ToolError', async () => {
    await expect(createCalculatorTool().run({ expression: '1 / 0' }, ctx)).rejects.toThrow(
      new ToolError('Division by zero'),
    );
  });

  it('refuses expressions over 500 characters in its schema too', () => {
    const tool = createCalculatorTool();
    expect(tool.parameters.safeParse({ expression: '1'.repeat(501) }).success).toBe(false);
    expect(tool.parameters.safeParse({ expression: '1'.repeat(500) }).success).toBe(true);
  });
});
