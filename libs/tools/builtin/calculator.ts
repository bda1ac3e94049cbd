import { z } from 'zod';
import { ToolError, type ToolDefinition, type ToolOutput } from '../tool-definition';

export const MAX_EXPRESSION_LENGTH = 500;

const parameters = z.object({
  expression: z
    .string()
    .min(1)
    .max(MAX_EXPRESSION_LENGTH)
    .describe('An arithmetic expression, e.g. "12 * (3 + 4)" or "sqrt(2) ^ 2 / max(1, pi)"'),
});

export type CalculatorArgs = z.infer<typeof parameters>;

/**
 * `calculator`: exact arithmetic the model is bad at doing in its head. The expression is parsed by a small
 * recursive-descent parser of our own; nothing the model writes is ever run as JavaScript.
 */
export function createCalculatorTool(): ToolDefinition<CalculatorArgs> {
  return {
    name: 'calculator',
    description:
      'Evaluates an arithmetic expression exactly. Supports + - * / % ^ (power), parentheses, unary minus, ' +
      'the functions sqrt, abs, round, floor, ceil, ln, log10, sin, cos, tan (radians), min, max, ' +
      'and the constants pi and e.',
    parameters,
    timeoutMs: 2_000,
    maxAttempts: 1,
    requiresApproval: false,
    local: true,
    // A promise executor turns the parser's synchronous throw into a rejection, as callers of `run` expect.
    run: ({ expression }) => new Promise((resolve) => resolve(calculate(expression))),
  };
}

function calculate(expression: string): ToolOutput {
  const value = formatNumber(evaluateExpression(expression));
  const content = `${expression.trim()} = ${value}`;
  return { content, summary: content.length <= 200 ? content : `= ${value}` };
}

/** Shows a result without binary noise: 0.1 + 0.2 is 0.3, not 0.30000000000000004. */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(15)));
}

const UNARY_FUNCTIONS: Readonly<Record<string, (x: number) => number>> = {
  sqrt: Math.sqrt,
  abs: Math.abs,
  round: Math.round,
  floor: Math.floor,
  ceil: Math.ceil,
  ln: Math.log,
  log10: Math.log10,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
};
const VARIADIC_FUNCTIONS: Readonly<Record<string, (...xs: number[]) => number>> = { min: Math.min, max: Math.max };
const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

type Token =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'name'; value: string; at: number }
  | { kind: 'symbol'; value: string; at: number };

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const SYMBOLS = '+-*/%^(),';

/**
 * Evaluates an arithmetic expression. Grammar, loosest binding first:
 *
 *   sum     = product (("+" | "-") product)*
 *   product = unary (("*" | "/" | "%") unary)*
 *   unary   = ("-" | "+") unary | power
 *   power   = primary ("^" unary)?          right-associative; -2^2 is -(2^2), 2^-1 is allowed
 *   primary = number | constant | name "(" sum ("," sum)* ")" | "(" sum ")"
 *
 * Throws a `ToolError` for anything it cannot evaluate to a finite number.
 */
export function evaluateExpression(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new ToolError(`Expression too long (${expression.length} characters, at most ${MAX_EXPRESSION_LENGTH})`);
  }
  const parser = new Parser(tokenize(expression));
  const value = parser.parseAll();
  if (!Number.isFinite(value)) throw new ToolError('The result is not a finite number');
  return value;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const space = /^\s+/.exec(rest);
    const number = NUMBER.exec(rest);
    const name = NAME.exec(rest);
    if (space) {
      at += space[0].length;
    } else if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at });
      at += number[0].length;
    } else if (name) {
      tokens.push({ kind: 'name', value: name[0], at });
      at += name[0].length;
    } else if (SYMBOLS.includes(rest.charAt(0))) {
      tokens.push({ kind: 'symbol', value: rest.charAt(0), at });
      at += 1;
    } else {
      throw new ToolError(`Unexpected character "${rest.charAt(0)}" at position ${at + 1}`);
    }
  }
  return tokens;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): number {
    if (this.tokens.length === 0) throw new ToolError('Empty expression');
    const value = this.sum();
    const extra = this.peek();
    if (extra) throw new ToolError(`Unexpected "${String(extra.value)}" at position ${extra.at + 1}`);
    return value;
  }

  private sum(): number {
    let value = this.product();
    for (let op = this.symbol('+', '-'); op; op = this.symbol('+', '-')) {
      const right = this.product();
      value = op === '+' ? value + right : value - right;
    }
    return value;
  }

  private product(): number {
    let value = this.unary();
    for (let op = this.symbol('*', '/', '%'); op; op = this.symbol('*', '/', '%')) {
      const right = this.unary();
      if (op === '*') {
        value *= right;
      } else if (right === 0) {
        throw new ToolError(op === '/' ? 'Division by zero' : 'Division by zero (modulo)');
      } else {
        value = op === '/' ? value / right : value % right;
      }
    }
    return value;
  }

  private unary(): number {
    const sign = this.symbol('-', '+');
    if (sign) return sign === '-' ? -this.unary() : this.unary();
    return this.power();
  }

  private power(): number {
    const base = this.primary();
    return this.symbol('^') ? base ** this.unary() : base;
  }

  private primary(): number {
    const token = this.next('a number, a name or "("');
    if (token.kind === 'number') return token.value;
    if (token.kind === 'symbol') {
      if (token.value !== '(') throw new ToolError(`Unexpected "${token.value}" at position ${token.at + 1}`);
      const value = this.sum();
      this.expect(')');
      return value;
    }
    const name = token.value.toLowerCase();
    if (this.symbol('(')) return this.call(name, token);
    const constant = CONSTANTS[name];
    if (constant === undefined) throw new ToolError(`Unknown name "${token.value}" at position ${token.at + 1}`);
    return constant;
  }

  /** A function call; the opening parenthesis is already consumed. */
  private call(name: string, token: Token): number {
    const unary = UNARY_FUNCTIONS[name];
    const variadic = VARIADIC_FUNCTIONS[name];
    if (!unary && !variadic) throw new ToolError(`Unknown function "${token.value}" at position ${token.at + 1}`);
    const args = [this.sum()];
    while (this.symbol(',')) args.push(this.sum());
    this.expect(')');
    if (variadic) return variadic(...args);
    const [x] = args;
    if (!unary || x === undefined || args.length !== 1) {
      throw new ToolError(`${name} takes one argument, got ${args.length}`);
    }
    return unary(x);
  }

  /** Consumes the next token if it is one of `symbols`, and returns it. */
  private symbol(...symbols: string[]): string | undefined {
    const token = this.peek();
    if (token?.kind !== 'symbol' || !symbols.includes(token.value)) return undefined;
    this.index += 1;
    return token.value;
  }

  private expect(symbol: string): void {
    const token = this.next(`"${symbol}"`);
    if (token.kind !== 'symbol' || token.value !== symbol) {
      throw new ToolError(`Expected "${symbol}" at position ${token.at + 1}, found "${String(token.value)}"`);
    }
  }

  private next(expected: string): Token {
    const token = this.peek();
    if (!token) throw new ToolError(`Unexpected end of expression: expected ${expected}`);
    this.index += 1;
    return token;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }
}
