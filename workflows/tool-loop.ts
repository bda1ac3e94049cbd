import {
  ActivityCancellationType,
  ApplicationFailure,
  condition,
  defineUpdate,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { ChatActivities } from '#activities/chat.activities';
import type { ChatTurnInput, GenerationOutput, PartialAnswer } from '#libs/contracts/chat-turn.contract';
import { DATABASE_STEP_OPTIONS } from '#libs/contracts/step-policies';
import { runsChange } from './turn-version';
import {
  TOOL_DECISION_FAILURES,
  TOOL_DECISION_UPDATE,
  type RequestedToolCall,
  type ToolCallRecord,
  type ToolCallResult,
  type ToolDecision,
  type ToolLoopState,
  type ToolPolicy,
  type ToolRound,
  type TurnToolset,
} from '#libs/contracts/tool-calls';

/** The turn's owner approves or denies a call that waits (`POST /turns/:id/tool-calls/:callId/approve|deny`). */
export const toolDecisionUpdate = defineUpdate<{ callId: string; approved: boolean }, [ToolDecision]>(
  TOOL_DECISION_UPDATE,
);

/** Prepares the toolset and settles calls that do not run (no activity task round trip). */
const { prepareTools, runTool: settleTool } = proxyLocalActivities<ChatActivities>(DATABASE_STEP_OPTIONS);

/**
 * The agent loop of a turn with tools: the model is called; when it asks for tools, each call runs as an activity of
 * its own (parallel calls in parallel, each with its tool's timeout and retry policy), a call that needs approval
 * first waits durably for its user's decision, and the results go back to the model — until it answers in text, the
 * steps run out or the token budget is spent (then it must answer without tools). A tool never fails the turn: the
 * model is told what went wrong.
 */
export class ToolLoop {
  /** Every settled call, in the order of the rounds and of the calls within a round. */
  private readonly settled = new Map<string, { order: number; record: ToolCallRecord }>();
  private readonly rounds: ToolRound[] = [];
  private readonly decisions = new Map<string, boolean>();
  private readonly awaiting = new Set<string>();
  private readonly asked = new Set<string>();
  private readonly runners = new Map<string, ChatActivities['runTool']>();
  /** Turns recorded before quick tools ran as local activities replay them as regular ones. */
  private readonly localTools: boolean;
  private produced = '';
  private model: string | undefined;
  private calls = 0;

  /**
   * `stepsInTask`: the model calls run inside the workflow task, so an answer to an update (the user's decision) would
   * leave with the task only once the next model call is done; a decision ends the task first.
   */
  constructor(
    private readonly turn: ChatTurnInput,
    private readonly stepsInTask = false,
  ) {
    this.localTools = runsChange(turn, 'local-tools');
    setHandler(
      toolDecisionUpdate,
      (decision) => {
        this.decisions.set(decision.callId, decision.approve);
        return { callId: decision.callId, approved: decision.approve };
      },
      { validator: (decision: ToolDecision) => this.validate(decision) },
    );
  }

  /** The text of every step so far and the calls made: what a cancel keeps. */
  partial(fromGeneration: PartialAnswer | undefined, model: string): PartialAnswer {
    return {
      content: this.produced + (fromGeneration?.content ?? ''),
      model: fromGeneration?.model ?? this.model ?? model,
      citations: fromGeneration?.citations ?? [],
      toolCalls: this.records,
    };
  }

  get records(): ToolCallRecord[] {
    return [...this.settled.values()].sort((a, b) => a.order - b.order).map(({ record }) => record);
  }

  /** Runs the loop; `generate` is one model call. The answer's text is every step's text, in order. */
  async run(generate: (tools: ToolLoopState) => Promise<GenerationOutput>): Promise<GenerationOutput> {
    const toolset = await prepareTools({ turn: this.turn });
    const names = toolset.tools.map((tool) => tool.name);
    let tokens = 0;
    let promptTokens = 0;
    let completionTokens = 0;
    for (let step = 0; ; step++) {
      const final = names.length === 0 || step >= toolset.maxSteps || tokens >= toolset.tokenBudget;
      const generation = await generate({
        names,
        ...(toolset.mcpTools ? { mcpTools: toolset.mcpTools } : {}),
        rounds: this.rounds,
        final,
        approvalTimeoutMs: toolset.approvalTimeoutMs,
      });
      this.produced += generation.content;
      this.model = generation.model;
      promptTokens += generation.usage?.promptTokens ?? 0;
      completionTokens += generation.usage?.completionTokens ?? 0;
      tokens = promptTokens + completionTokens;
      const calls = final ? [] : (generation.toolCalls ?? []);
      if (calls.length === 0) {
        const { toolCalls: _asked, ...answer } = generation;
        return {
          ...answer,
          content: this.produced,
          ...(generation.usage ? { usage: { promptTokens, completionTokens } } : {}),
        };
      }
      for (const call of calls) this.asked.add(call.id);
      const results = await Promise.all(calls.map((call) => this.runCall(call, step, toolset)));
      this.rounds.push({ content: generation.content, calls, results });
    }
  }

  private async runCall(call: RequestedToolCall, step: number, toolset: TurnToolset): Promise<ToolCallResult> {
    const order = this.calls++;
    const keep = (result: ToolCallResult): ToolCallResult => {
      this.settled.set(call.id, { order, record: result.record });
      return result;
    };
    const policy = toolset.tools.find((tool) => tool.name === call.name);
    if (call.invalid !== undefined || !policy) return keep(await settleTool({ turn: this.turn, call, step }));
    try {
      if (policy.requiresApproval && !(await this.approved(call, toolset))) {
        const timedOut = !this.decisions.has(call.id);
        return keep(
          await settleTool({
            turn: this.turn,
            call,
            step,
            skip: timedOut
              ? { outcome: 'approval_timed_out', detail: 'Not approved in time' }
              : { outcome: 'denied', detail: 'Denied by the user' },
          }),
        );
      }
      const mcpTool = toolset.mcpTools?.find((tool) => tool.name === call.name);
      return keep(await this.runner(policy)({ turn: this.turn, call, step, policy, ...(mcpTool ? { mcpTool } : {}) }));
    } catch (error) {
      if (isCancellation(error)) {
        this.settled.set(call.id, { order, record: cancelledRecord(call, step) });
        throw error;
      }
      // Every attempt failed in a way the activity could not report itself (its worker died on the last attempt).
      const detail = `The tool did not finish: ${error instanceof Error ? error.message : String(error)}`;
      return keep(await settleTool({ turn: this.turn, call, step, skip: { outcome: 'failed', detail } }));
    }
  }

  /** Waits for the user's decision, up to the approval timeout (then: not approved). */
  private async approved(call: RequestedToolCall, toolset: TurnToolset): Promise<boolean> {
    this.awaiting.add(call.id);
    try {
      await condition(() => this.decisions.has(call.id), toolset.approvalTimeoutMs);
    } finally {
      this.awaiting.delete(call.id);
    }
    // A 1 ms timer ends this workflow task, which sends the decision's answer to the user before the tool runs.
    if (this.stepsInTask && this.decisions.has(call.id)) await sleep(1);
    return this.decisions.get(call.id) === true;
  }

  /** Each tool runs with its own timeout and retry policy; a pure, quick one as a local activity. */
  private runner(policy: ToolPolicy): ChatActivities['runTool'] {
    let runner = this.runners.get(policy.name);
    if (!runner && policy.local && this.localTools) {
      runner = proxyLocalActivities<ChatActivities>({
        startToCloseTimeout: policy.timeoutMs + 5_000,
        retry: { maximumAttempts: policy.maxAttempts, initialInterval: '100 ms', backoffCoefficient: 2 },
      }).runTool;
      this.runners.set(policy.name, runner);
    }
    if (!runner) {
      runner = proxyActivities<ChatActivities>({
        // The tool's own timeout ends an attempt first; this one only catches a worker that died mid-call.
        startToCloseTimeout: policy.timeoutMs + 10_000,
        retry: {
          maximumAttempts: policy.maxAttempts,
          initialInterval: '250 ms',
          backoffCoefficient: 2,
          maximumInterval: '5 seconds',
        },
        cancellationType: ActivityCancellationType.TRY_CANCEL,
      }).runTool;
      this.runners.set(policy.name, runner);
    }
    return runner;
  }

  /** Only the turn's owner, only for a call that waits for a decision, only once. */
  private validate(decision: ToolDecision): void {
    if (decision.userId !== this.turn.userId) {
      throw ApplicationFailure.create({
        type: TOOL_DECISION_FAILURES.notOwner,
        message: "Only the turn's owner decides its tool calls",
        nonRetryable: true,
      });
    }
    if (!this.asked.has(decision.callId)) {
      throw ApplicationFailure.create({
        type: TOOL_DECISION_FAILURES.unknownCall,
        message: `The turn has no tool call ${decision.callId}`,
        nonRetryable: true,
      });
    }
    if (!this.awaiting.has(decision.callId) || this.decisions.has(decision.callId)) {
      throw ApplicationFailure.create({
        type: TOOL_DECISION_FAILURES.notAwaiting,
        message: `Tool call ${decision.callId} is not waiting for approval`,
        nonRetryable: true,
      });
    }
  }
}

function cancelledRecord(call: RequestedToolCall, step: number): ToolCallRecord {
  return {
    id: call.id,
    name: call.name,
    arguments: call.arguments,
    step,
    outcome: 'cancelled',
    summary: 'Cancelled with the turn',
    durationMs: 0,
  };
}
