import {
  decodeActivityCursor,
  nextCursorOf,
  type NewReport,
  type Report,
  type ReportStatus,
  type ReportStep,
  type ReportStore,
} from '@jobsphere/chat-domain';
import { isValidObjectId, Types } from 'mongoose';
import { toReport } from './mappers.js';
import type { Models, ReportDoc } from './models.js';

export class MongoReports implements ReportStore {
  constructor(private readonly model: Models['reports']) {}

  async create(report: NewReport): Promise<Report> {
    const doc: ReportDoc = { _id: new Types.ObjectId(), ...report, status: 'open', history: [] };
    await this.model.collection.insertOne(doc);
    return toReport(doc);
  }

  async get(id: string): Promise<Report | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model.findById(id).lean<ReportDoc>();
    return doc ? toReport(doc) : null;
  }

  async list(query: {
    status?: Report['status'];
    limit: number;
    cursor?: string;
  }): Promise<{ reports: Report[]; nextCursor?: string }> {
    const filter: Record<string, unknown> = query.status ? { status: query.status } : {};
    if (query.cursor) {
      const { at, id } = decodeActivityCursor(query.cursor);
      if (!isValidObjectId(id)) return { reports: [] };
      filter['$or'] = [
        { createdAt: { $lt: at } },
        { createdAt: at, _id: { $lt: new Types.ObjectId(id) } },
      ];
    }
    const docs = await this.model
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean<ReportDoc[]>();
    const reports = docs.slice(0, query.limit).map(toReport);
    return {
      reports,
      ...nextCursorOf(docs.length, query.limit, reports, (i) => [i.createdAt, i.id]),
    };
  }

  async aboutMessage(
    messageId: string,
    statuses: readonly ReportStatus[],
    limit: number,
  ): Promise<Report[]> {
    const docs = await this.model
      .find({ messageId, status: { $in: [...statuses] } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<ReportDoc[]>();
    return docs.map(toReport);
  }

  async transition(id: string, step: ReportStep): Promise<Report | null> {
    if (!isValidObjectId(id)) return null;
    const { to, resolution, by, at } = step;
    // One conditional write per state it may leave, so the history names the one it left.
    for (const from of step.from) {
      const doc = await this.model
        .findOneAndUpdate(
          { _id: id, status: from },
          {
            $set: { status: to, resolution, resolvedBy: by, resolvedAt: at },
            $push: { history: { from, to, resolution, by, at } },
          },
          { returnDocument: 'after' },
        )
        .lean<ReportDoc>();
      if (doc) return toReport(doc);
    }
    return null;
  }
}
