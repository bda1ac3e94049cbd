import { PageQuery } from '../../common/page.query';

export class ListConversationsQuery extends PageQuery {}
