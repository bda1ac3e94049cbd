import { PageQuery } from '../../common/page.query';

/** `?cursor&limit` of `GET /replays` (newest first, default 20). */
export class ListReplaysQuery extends PageQuery {}
