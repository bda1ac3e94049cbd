import { ApplicationFailure } from '@temporalio/activity';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { createReembedding } from './reembedding.activity';
import { silentLogger } from './testing/maintenance-kit';

const ADA = '00000000-0000-4000-8000-00000000000a';
const F1 = '10000000-0000-4000-8000-000000000001';
const F2 = '10000000-0000-4000-8000-000000000002';
const F3 = '10000000-0000-4000-8000-000000000003';
const F4 = '10000000-0000-4000-8000-000000000004';
const F5 = '10000000-0000-4000-8000-000000000005';

function setup(embeddingModel?: string) {
  const files = new InMemoryFileRepository();
  files.seed({ id: F1, userId: ADA, status: 'ready', embeddingModel: 'old-model' });
  files.seed({ id: F2, userId: ADA, status: 'ready', embeddingModel: null });
  files.seed({ id: F3, userId: ADA, status: 'ready', embeddingModel: 'new-model' });
  files.seed({ id: F4, userId: ADA, status: 'processing' });
  files.seed({ id: F5, userId: ADA, status: 'failed' });
  return { files, ...createReembedding({ db: { files }, logger: silentLogger, embeddingModel }) };
}

describe('re-embedding activities', () => {
  it('plans for the configured model: ready files on another model or none, or every ready file with all', async () => {
    const kit = setup('new-model');
    expect(await kit.planReembedding({ all: false })).toEqual({ model: 'new-model', total: 2 });
    expect(await kit.planReembedding({ all: true })).toEqual({ model: 'new-model', total: 3 });
  });

  it('pages through the files in id order, after the last one done', async () => {
    const kit = setup('new-model');
    expect(await kit.nextFilesToReembed({ all: true, limit: 2 })).toEqual({
      model: 'new-model',
      files: [
        { fileId: F1, userId: ADA },
        { fileId: F2, userId: ADA },
      ],
    });
    expect((await kit.nextFilesToReembed({ all: true, limit: 2, afterFileId: F2 })).files).toEqual([
      { fileId: F3, userId: ADA },
    ]);
    expect((await kit.nextFilesToReembed({ all: true, limit: 2, afterFileId: F3 })).files).toEqual([]);
  });

  it('records the new model on a ready file, so it drops out of the next plan', async () => {
    const kit = setup('new-model');
    expect(await kit.recordReembedded({ fileId: F1, userId: ADA, model: 'new-model' })).toBe(true);
    expect(kit.files.rows.get(F1)!.embeddingModel).toBe('new-model');
    expect((await kit.planReembedding({ all: false })).total).toBe(1);
    // A file that is no longer ready (deleted, failed) is not touched.
    expect(await kit.recordReembedded({ fileId: F5, userId: ADA, model: 'new-model' })).toBe(false);
  });

  it('fails for good when no embedding provider is configured', async () => {
    const kit = setup(undefined);
    const error = await kit.planReembedding({ all: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'embeddings_off', nonRetryable: true });
    await expect(kit.nextFilesToReembed({ all: false, limit: 5 })).rejects.toMatchObject({ type: 'embeddings_off' });
  });
});
