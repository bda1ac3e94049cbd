import { Context } from '@temporalio/activity';
import type { ReplayJudge, ReplayStepRef, ReplayVerdict } from '#libs/contracts/replay.contract';
import { bucketOf } from '#libs/replay/replay-metrics';
import { armOutcome, judgeOrder, judgePrompt, parseVerdict } from '#libs/replay/replay-judge';
import { toActivityFailure } from '../chat/llm-failure';
import { type ReplayActivityContext, type ReplayJudgeDeps, replayLogger } from './replay-activity-deps';

/** A verdict is a sentence of JSON: this leaves room for a model that talks before it. */
const JUDGE_MAX_TOKENS = 300;

export function createJudgeReplayAnswer(deps: ReplayActivityContext & ReplayJudgeDeps) {
  const { db, llm } = deps;
  return {
    /**
     * Asks the judge model which of two answers to the same user message is better: the arm's stored answer and the
     * original one (or the first arm's), shown as A and B in an order decided by the replay's seed and recorded with
     * the verdict. Records the verdict and the bucket it puts the answer in, once. Returns the verdict, or null when
     * there is nothing to compare (either answer missing or failed) or the judge gave no readable verdict.
     */
    async judgeReplayAnswer(args: {
      ref: ReplayStepRef;
      judge: ReplayJudge;
      seed: number;
    }): Promise<ReplayVerdict | null> {
      const { ref, judge } = args;
      const log = replayLogger(deps.logger, ref.replayId, ref.conversationId, 'judgeReplayAnswer');
      const result = await db.replays.findResult(ref.replayId, ref.conversationId, ref.turnIndex, ref.armIndex);
      if (!result || result.status !== 'complete') return null;
      if (result.verdict) return result.verdict;

      let baseline: string | undefined;
      if (judge.against === 'first-arm') {
        if (ref.armIndex === 0) return null;
        const first = await db.replays.findResult(ref.replayId, ref.conversationId, ref.turnIndex, 0);
        baseline = first?.status === 'complete' ? first.content : undefined;
      } else if (result.originalMessageId) {
        const original = await db.messages.findById(result.originalMessageId);
        baseline = original && original.status !== 'failed' ? original.content : undefined;
      }
      const question = await db.messages.contentOf(result.userMessageId, ref.conversationId);
      if (baseline === undefined || baseline.length === 0 || question === undefined) return null;

      const order = judgeOrder(args.seed, ref);
      const [answerA, answerB] = order === 'arm-first' ? [result.content, baseline] : [baseline, result.content];
      const ask = () =>
        llm.generate({
          model: judge.model,
          messages: judgePrompt({ rubric: judge.rubric, question, answerA, answerB }),
          maxTokens: JUDGE_MAX_TOKENS,
          temperature: 0,
          signal: Context.current().cancellationSignal,
        });
      let reply;
      try {
        reply = await (deps.priority ? deps.priority.batch(ask) : ask());
      } catch (error) {
        throw toActivityFailure(error, log);
      }
      const parsed = parseVerdict(reply.content);
      if (!parsed) {
        log.warn({ turnIndex: ref.turnIndex, armIndex: ref.armIndex, model: reply.model }, 'unreadable verdict');
        return null;
      }
      const verdict: ReplayVerdict = {
        outcome: armOutcome(parsed, order),
        reason: parsed.reason,
        order,
        judgeModel: reply.model,
        against: judge.against,
      };
      await db.replays.recordVerdict(result.id, verdict, bucketOf(result.metrics, null, verdict));
      log.debug({ turnIndex: ref.turnIndex, armIndex: ref.armIndex, outcome: verdict.outcome, order }, 'judged');
      return (
        (await db.replays.findResult(ref.replayId, ref.conversationId, ref.turnIndex, ref.armIndex))?.verdict ?? verdict
      );
    },
  };
}
