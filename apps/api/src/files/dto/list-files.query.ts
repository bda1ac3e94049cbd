import { PageQuery } from '../../common/page.query';

export class ListFilesQuery extends PageQuery {}
