import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api/client';
import type { FileInfo, ModelInfo, Page, ToolInfo } from '../api/types';

export interface Outgoing {
  content: string;
  model?: string;
  webSearch: boolean;
  fileIds: string[];
  /** Tools the model may call for this answer (`GET /tools` names). */
  tools: string[];
}

/** The server's tools, asked for once per page load, when the picker first opens. */
let toolsOnce: Promise<ToolInfo[]> | undefined;

interface Props {
  models: ModelInfo[];
  /** The conversation's own tools, preselected; none: a new chat, which starts with none. */
  tools?: string[];
  /**
   * Keeps a change of the picked tools as the conversation's (its owner); without it the picks hold for this composer
   * only and go with each message.
   */
  onToolsChange?: (tools: string[]) => Promise<boolean>;
  /** The conversation's own model, preselected. */
  model?: string | null;
  streaming: boolean;
  disabled?: string;
  onSend: (message: Outgoing) => Promise<boolean>;
  onStop: () => void;
}

/** Writes a message: the text, the model, web search, which files the answer may draw on, and the tools it may call. */
export function Composer({
  models,
  tools: savedTools,
  onToolsChange,
  model,
  streaming,
  disabled,
  onSend,
  onStop,
}: Props) {
  const [content, setContent] = useState('');
  const [chosenModel, setChosenModel] = useState(model ?? '');
  const [webSearch, setWebSearch] = useState(false);
  const [pickFiles, setPickFiles] = useState(false);
  const [files, setFiles] = useState<FileInfo[]>();
  const [fileIds, setFileIds] = useState<string[]>([]);
  const [sending, setSending] = useState(false);
  const [pickTools, setPickTools] = useState(false);
  const [toolList, setToolList] = useState<ToolInfo[]>();
  const [toolsError, setToolsError] = useState(false);
  const [tools, setTools] = useState<string[]>(savedTools ?? []);

  useEffect(() => setChosenModel(model ?? ''), [model]);
  // By content: a reloaded conversation with the same tools keeps what a sharee picked.
  useEffect(() => setTools(savedTools ?? []), [savedTools?.join(',')]);
  useEffect(() => {
    if (!pickTools || toolList) return;
    toolsOnce ??= getJson<{ items: ToolInfo[] }>('/tools').then((r) => r.items);
    toolsOnce.then(
      (items) => {
        setToolsError(false);
        setToolList(items);
      },
      () => {
        toolsOnce = undefined;
        setToolsError(true);
      },
    );
  }, [pickTools, toolList]);

  const toggleTool = async (name: string, on: boolean) => {
    const before = tools;
    const next = on ? [...tools.filter((t) => t !== name), name] : tools.filter((t) => t !== name);
    setTools(next);
    // Kept as the conversation's: a change the server refused is taken back.
    if (onToolsChange && !(await onToolsChange(next))) setTools(before);
  };
  useEffect(() => {
    if (!pickFiles || files) return;
    getJson<Page<FileInfo>>('/files?limit=100').then(
      (page) => setFiles(page.items.filter((f) => f.status === 'ready')),
      () => setFiles([]),
    );
  }, [pickFiles, files]);

  const submit = async (event?: Event) => {
    event?.preventDefault();
    const text = content.trim();
    if (!text || streaming || sending || disabled) return;
    setSending(true);
    const sent = await onSend({
      content: text,
      ...(chosenModel ? { model: chosenModel } : {}),
      webSearch,
      fileIds: pickFiles ? fileIds : [],
      tools,
    });
    setSending(false);
    if (sent) setContent('');
  };

  return (
    <form class="composer" onSubmit={(e) => void submit(e)} aria-label="Send a message">
      {disabled && <p class="muted">{disabled}</p>}
      <label for="composer-text" class="sr-only">
        Message
      </label>
      <textarea
        id="composer-text"
        rows={3}
        placeholder="Ask anything. Enter sends, Shift+Enter adds a line."
        value={content}
        disabled={Boolean(disabled)}
        maxLength={100_000}
        onInput={(e) => setContent(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <div class="composer-options">
        <div class="field inline">
          <label for="composer-model">Model</label>
          <select id="composer-model" value={chosenModel} onChange={(e) => setChosenModel(e.currentTarget.value)}>
            <option value="">
              Default{models.find((m) => m.default) ? ` (${models.find((m) => m.default)!.id})` : ''}
            </option>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} · {m.provider}
              </option>
            ))}
          </select>
        </div>
        <div class="row">
          <input
            id="composer-web"
            type="checkbox"
            checked={webSearch}
            onChange={(e) => setWebSearch(e.currentTarget.checked)}
          />
          <label for="composer-web">Search the web</label>
        </div>
        <div class="row">
          <input
            id="composer-files"
            type="checkbox"
            checked={pickFiles}
            aria-controls={pickFiles ? 'composer-file-list' : undefined}
            onChange={(e) => setPickFiles(e.currentTarget.checked)}
          />
          <label for="composer-files">
            Only these files{pickFiles && fileIds.length ? ` (${fileIds.length})` : ''}
          </label>
        </div>
        <div class="row">
          <button
            type="button"
            class="small"
            aria-expanded={pickTools}
            aria-controls={pickTools ? 'composer-tool-list' : undefined}
            onClick={() => setPickTools(!pickTools)}
          >
            Tools{tools.length ? ` (${tools.length})` : ''}
          </button>
        </div>
        <div class="composer-send">
          {streaming ? (
            <button type="button" class="danger" onClick={onStop}>
              Stop
            </button>
          ) : (
            <button type="submit" disabled={sending || Boolean(disabled) || !content.trim()}>
              Send
            </button>
          )}
        </div>
      </div>
      {pickTools && (
        <fieldset id="composer-tool-list" class="tool-picker">
          <legend>Tools the answer may use</legend>
          {toolsError ? (
            <p class="muted">The tools could not be loaded. Close and open this list to try again.</p>
          ) : toolList === undefined ? (
            <p class="muted">Loading tools…</p>
          ) : toolList.length === 0 ? (
            <p class="muted">This server offers no tools.</p>
          ) : (
            toolList.map((tool) => (
              <div class="row" key={tool.name}>
                <input
                  id={`tool-${tool.name}`}
                  type="checkbox"
                  checked={tools.includes(tool.name)}
                  aria-describedby={`tool-${tool.name}-about`}
                  onChange={(e) => void toggleTool(tool.name, e.currentTarget.checked)}
                />
                <label for={`tool-${tool.name}`}>{tool.name}</label>
                <span id={`tool-${tool.name}-about`} class="muted small-text">
                  {tool.description}
                  {tool.requiresApproval ? ' (asks you before each call)' : ''}
                </span>
              </div>
            ))
          )}
        </fieldset>
      )}
      {pickFiles && (
        <fieldset id="composer-file-list" class="file-picker">
          <legend>Files this answer may use</legend>
          {files === undefined ? (
            <p class="muted">Loading files…</p>
          ) : files.length === 0 ? (
            <p class="muted">
              No ready files. <a href="/files">Upload one</a>.
            </p>
          ) : (
            files.map((f) => (
              <div class="row" key={f.id}>
                <input
                  id={`pick-${f.id}`}
                  type="checkbox"
                  checked={fileIds.includes(f.id)}
                  onChange={(e) =>
                    setFileIds(e.currentTarget.checked ? [...fileIds, f.id] : fileIds.filter((id) => id !== f.id))
                  }
                />
                <label for={`pick-${f.id}`}>{f.name}</label>
              </div>
            ))
          )}
        </fieldset>
      )}
    </form>
  );
}
