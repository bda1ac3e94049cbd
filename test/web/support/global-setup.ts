import integrationSetup from '../../support/global-setup';
import { ensureWebBuild } from './web-build';

/** What every e2e file gets (the workflow bundle), plus a current build of the web client in dist/web. */
export default async function globalSetup(): Promise<void> {
  await integrationSetup();
  ensureWebBuild();
}
