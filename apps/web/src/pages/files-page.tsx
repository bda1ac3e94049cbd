import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, getJson, query } from '../api/client';
import { errorFrom } from '../api/api-error';
import { validAccessToken } from '../api/session';
import type { FileInfo, Page } from '../api/types';
import { formatBytes, formatTime, saveBlob } from '../lib/format';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';
import { useLocation } from '../lib/router';

interface Upload {
  key: number;
  name: string;
  loaded: number;
  total: number;
  error?: string;
}

const STAGES: Record<string, string> = {
  extract: 'reading the text',
  chunk: 'splitting into passages',
  embed: 'indexing meaning',
  index: 'indexing',
};

/** Upload with a progress bar; each file's processing followed live until it is ready or failed (with why). */
export default function FilesPage() {
  const heading = usePage('Files');
  const location = useLocation();
  const highlighted = location.query.get('file');
  const [files, setFiles] = useState<FileInfo[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  const seq = useRef(0);

  const load = async () => {
    try {
      const page = await getJson<Page<FileInfo>>(`/files${query({ limit: 100 })}`);
      setFiles(page.items);
      setCursor(page.nextCursor ?? null);
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  useEffect(() => void load(), []);

  // Files still processing are polled (reading a file's status is not rate-limited) until each settles.
  const processing = (files ?? []).filter((f) => f.status === 'processing').map((f) => f.id);
  useEffect(() => {
    if (processing.length === 0) return;
    const timer = setTimeout(async () => {
      const fresh = await Promise.all(processing.map((id) => getJson<FileInfo>(`/files/${id}`).catch(() => undefined)));
      setFiles((current) =>
        current?.map((f) => {
          const now = fresh.find((x) => x?.id === f.id);
          if (now && now.status !== f.status)
            setNotice(now.status === 'ready' ? `${now.name} is ready.` : `${now.name} could not be processed.`);
          return now ?? f;
        }),
      );
    }, 700);
    return () => clearTimeout(timer);
  }, [files]);

  const upload = async (file: File) => {
    const key = ++seq.current;
    setUploads((u) => [...u, { key, name: file.name, loaded: 0, total: file.size }]);
    const update = (patch: Partial<Upload>) =>
      setUploads((u) => u.map((x) => (x.key === key ? { ...x, ...patch } : x)));
    const token = await validAccessToken();
    // XMLHttpRequest, not fetch: only it reports upload progress.
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/files');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => update({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    const body = new FormData();
    body.append('file', file, file.name);
    xhr.onload = async () => {
      if (xhr.status === 202 || xhr.status === 201) {
        setUploads((u) => u.filter((x) => x.key !== key));
        const created = JSON.parse(xhr.responseText) as FileInfo;
        setFiles((current) => [created, ...(current ?? []).filter((f) => f.id !== created.id)]);
        setNotice(`${created.name} uploaded; processing…`);
      } else {
        const res = new Response(xhr.responseText, {
          status: xhr.status,
          headers: { 'retry-after': xhr.getResponseHeader('retry-after') ?? '' },
        });
        update({ error: problemText(await errorFrom(res)) });
      }
    };
    xhr.onerror = () => update({ error: 'The upload was interrupted. Check your connection and try again.' });
    xhr.send(body);
  };

  const remove = async (file: FileInfo) => {
    try {
      await call('DELETE', `/files/${file.id}`);
      setFiles((current) => current?.filter((f) => f.id !== file.id));
      setNotice(`${file.name} deleted.`);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const download = async (file: FileInfo) => {
    try {
      const res = await call('GET', `/files/${file.id}/content`, { headers: { Accept: '*/*' } });
      saveBlob(await res.blob(), file.name);
    } catch (caught) {
      setError(caught instanceof ApiError ? problemText(caught) : 'The download failed.');
    }
  };

  return (
    <main id="main" class="page">
      <h1 ref={heading} tabIndex={-1}>
        Files
      </h1>
      <p>Answers can cite your files. Supported: txt, md, html, pdf, docx, csv, json.</p>
      <div class="field">
        <label for="file-upload">Upload files</label>
        <input
          ref={input}
          id="file-upload"
          type="file"
          multiple
          accept=".txt,.md,.html,.htm,.pdf,.docx,.csv,.json"
          onChange={(e) => {
            for (const file of Array.from(e.currentTarget.files ?? [])) void upload(file);
            e.currentTarget.value = '';
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads in progress">
          {uploads.map((u) => (
            <li key={u.key}>
              <label for={`upload-${u.key}`}>Uploading {u.name}</label>
              <progress id={`upload-${u.key}`} max={u.total || 1} value={u.loaded} />
              {u.error && (
                <p class="error" role="alert">
                  {u.name}: {u.error}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      <div class="status-area">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="notice" role="status">
          {notice}
        </p>
      </div>
      <h2>Your files</h2>
      {files === undefined ? (
        <p class="muted">Loading…</p>
      ) : files.length === 0 ? (
        <p class="muted">No files yet.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Your files">
          <table class="files">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">Status</th>
                <th scope="col">Uploaded</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.id} class={f.id === highlighted ? 'highlight' : undefined} id={`file-${f.id}`}>
                  <th scope="row">{f.name}</th>
                  <td>{formatBytes(f.size)}</td>
                  <td>
                    {f.status === 'processing' ? (
                      <>
                        <label for={`progress-${f.id}`}>
                          Processing{f.stage ? `: ${STAGES[f.stage] ?? f.stage}` : ''}
                        </label>{' '}
                        <progress id={`progress-${f.id}`} max={100} value={f.progress} />
                      </>
                    ) : f.status === 'ready' ? (
                      <span class="ok">Ready · {f.chunks} passages</span>
                    ) : (
                      <span class="bad">Failed: {f.error?.detail ?? f.error?.code ?? 'could not be read'}</span>
                    )}
                  </td>
                  <td>{formatTime(f.createdAt)}</td>
                  <td class="actions">
                    <button type="button" class="small" onClick={() => void download(f)}>
                      Download <span class="sr-only">{f.name}</span>
                    </button>
                    <button type="button" class="small danger" onClick={() => void remove(f)}>
                      Delete <span class="sr-only">{f.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <p class="muted">Showing the newest 100 files.</p>}
    </main>
  );
}
