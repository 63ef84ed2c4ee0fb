#!/usr/bin/python3
"""A MongoDB wire-protocol test double: mockupdb speaks the protocol, mongomock stores the data.

For tests only. One request is answered at a time, nothing is persisted, transactions are not
real and performance says nothing about a real server. Started by `startMongo()` from
@jobsphere/testing when neither MONGODB_URI nor a `mongod` binary is available.

    /usr/bin/python3 mongo_double.py --port 27017 [--verbose] [--log-file F] [--exit-on-stdin-eof]

Prints "mongo_double listening on 127.0.0.1:<port>" once it accepts connections. Exits on
SIGTERM/SIGINT, and when its stdin reaches EOF if started with --exit-on-stdin-eof (so it dies
with the process that started it, even if that one was killed with SIGKILL).
"""

import argparse
import copy
import datetime
import itertools
import os
import random
import signal
import sys
import threading
import time
import traceback

try:
    import bson
    import bson.json_util
    from bson.int64 import Int64
    from bson.objectid import ObjectId
    import mockupdb
    import mongomock
    from mongomock import CollectionInvalid, DuplicateKeyError, OperationFailure, WriteError
    from mongomock.filtering import filter_applies
except ImportError as error:  # pragma: no cover - environment problem, reported to the caller
    sys.stderr.write(
        'mongo_double: cannot import mockupdb/mongomock under %s (%s).\n'
        'Install the Debian packages python3-mockupdb and python3-mongomock, or'
        ' `pip install mockupdb mongomock`, or point MONGO_DOUBLE_PYTHON at a python3 that has'
        ' them.\n' % (sys.executable, error))
    sys.exit(3)

SERVER_VERSION = '6.0.0'
MAX_WIRE_VERSION = 17  # MongoDB 6.0; the Node driver 7 requires at least 9 (MongoDB 4.4).
DEFAULT_FIRST_BATCH = 101  # like mongod when the client gives no batchSize
MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024

CODE_NAMES = {
    1: 'InternalError', 2: 'BadValue', 9: 'FailedToParse', 20: 'IllegalOperation',
    26: 'NamespaceNotFound', 27: 'IndexNotFound', 43: 'CursorNotFound', 48: 'NamespaceExists',
    59: 'CommandNotFound', 66: 'ImmutableField', 72: 'InvalidOptions', 85: 'IndexOptionsConflict',
    238: 'NotImplemented', 11000: 'DuplicateKey',
}


class CommandError(Exception):
    def __init__(self, code, errmsg, **extra):
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg
        self.extra = extra


log_stream = sys.stderr


def log(msg):
    log_stream.write('mongo_double: %s\n' % msg)
    log_stream.flush()


# --------------------------------------------------------------------------------------------
# Helpers


def is_operator_doc(update):
    return bool(update) and all(str(k).startswith('$') for k in update)


def sort_spec(sort):
    if not sort:
        return None
    spec = []
    for key, direction in sort.items():
        if isinstance(direction, dict):
            raise CommandError(238, 'sort by %r is not supported by the wire double' % (direction,))
        spec.append((key, 1 if direction in (1, 1.0, True) or direction > 0 else -1))
    return spec


def projection_spec(projection):
    return projection if projection else None


def format_value(value):
    if isinstance(value, ObjectId):
        return "ObjectId('%s')" % value
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, datetime.datetime):
        return 'new Date(%d)' % int(value.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def get_path(doc, path):
    current = doc
    for part in path.split('.'):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return None
    return current


def duplicate_key_error(coll, doc):
    """Builds the writeError/command error fields mongod returns for E11000 for `doc`,
    a document that collides with another one of `coll` (it is not itself stored)."""
    # Secondary unique indexes first: for an update `doc` keeps its own _id, so _id_ comes last.
    indexes = []
    for name, info in coll.index_information().items():
        if name != '_id_' and info.get('unique'):
            indexes.append((name, list(info['key']), info))
    indexes.append(('_id_', [('_id', 1)], {}))
    for name, keys, info in indexes:
        key_value = {}
        for field, _direction in keys:
            key_value[field] = get_path(doc, field)
        if info.get('sparse') and all(v is None for v in key_value.values()):
            continue
        query = {'$and': [dict(key_value), {'_id': {'$ne': doc.get('_id')}}]}
        if name == '_id_':
            query = {'_id': doc.get('_id')}
        elif info.get('partialFilterExpression'):
            if not filter_applies(info['partialFilterExpression'], doc):
                continue
            query['$and'].append(info['partialFilterExpression'])
        if coll.count_documents(query) > 0:
            key_pattern = {field: direction for field, direction in keys}
            dup = ', '.join('%s: %s' % (k, format_value(v)) for k, v in key_value.items())
            errmsg = 'E11000 duplicate key error collection: %s.%s index: %s dup key: { %s }' % (
                coll.database.name, coll.name, name, dup)
            return {'code': 11000, 'errmsg': errmsg, 'keyPattern': key_pattern,
                    'keyValue': key_value}
    return {'code': 11000, 'errmsg': 'E11000 duplicate key error collection: %s.%s' % (
        coll.database.name, coll.name)}


def post_image(coll, query, update, upsert, sort=None):
    """Where an update would collide, the document it would have produced (for E11000 details)."""
    scratch = mongomock.MongoClient()['scratch']['c']
    existing = coll.find_one(query, sort=sort_spec(sort))
    if existing is not None:
        scratch.insert_one(copy.deepcopy(existing))
        selector = {'_id': existing['_id']}
    elif upsert:
        selector = query
    else:
        return {}
    if is_operator_doc(update):
        scratch.update_one(selector, update, upsert=upsert)
    else:
        scratch.replace_one(selector, update, upsert=upsert)
    return scratch.find_one({}) or {}


def write_error(index, error, coll=None, doc=None):
    if isinstance(error, DuplicateKeyError):
        entry = duplicate_key_error(coll, doc or {})
    elif isinstance(error, CommandError):
        entry = {'code': error.code, 'errmsg': error.errmsg}
    elif isinstance(error, WriteError) and 'immutable' in str(error):
        entry = {'code': 66, 'errmsg': str(error)}
    elif isinstance(error, NotImplementedError):
        entry = {'code': 238, 'errmsg': 'not supported by the wire double: %s' % error}
    else:
        entry = {'code': getattr(error, 'code', None) or 2, 'errmsg': str(error)}
    entry['index'] = index
    entry['codeName'] = CODE_NAMES.get(entry['code'], 'BadValue')
    return entry


# --------------------------------------------------------------------------------------------
# The server


class Double:
    def __init__(self):
        self.client = mongomock.MongoClient()
        self.cursors = {}
        self.next_cursor = random.randint(1 << 40, 1 << 50)
        self.connection_ids = itertools.count(1)
        self.commands = {
            'hello': self.cmd_hello, 'ismaster': self.cmd_hello, 'ping': self.cmd_ok,
            'buildinfo': self.cmd_build_info, 'endsessions': self.cmd_ok,
            'getlasterror': self.cmd_ok, 'killcursors': self.cmd_kill_cursors,
            'getmore': self.cmd_get_more, 'listdatabases': self.cmd_list_databases,
            'listcollections': self.cmd_list_collections, 'listindexes': self.cmd_list_indexes,
            'create': self.cmd_create, 'drop': self.cmd_drop, 'dropdatabase': self.cmd_drop_database,
            'createindexes': self.cmd_create_indexes, 'dropindexes': self.cmd_drop_indexes,
            'insert': self.cmd_insert, 'find': self.cmd_find, 'update': self.cmd_update,
            'findandmodify': self.cmd_find_and_modify, 'delete': self.cmd_delete,
            'count': self.cmd_count, 'aggregate': self.cmd_aggregate, 'distinct': self.cmd_distinct,
            'committransaction': self.cmd_transaction, 'aborttransaction': self.cmd_transaction,
            'getparameter': self.cmd_ok, 'serverstatus': self.cmd_server_status,
        }

    # -- plumbing ------------------------------------------------------------------------------

    def handle(self, request):
        """mockupdb autoresponder: answers every request, returns True."""
        try:
            if not request.is_command:
                log('legacy opcode %r not supported' % request)
                request.hangup()
                return True
            doc = request.doc
            name = request.command_name
            db_name = doc.get('$db') or (request.namespace or 'admin').split('.')[0]
            if verbose:
                log('%s %s' % (name, bson.json_util.dumps(doc)[:300]))
            try:
                reply = self.dispatch(name, db_name, doc)
            except CommandError as error:
                reply = {'ok': 0, 'errmsg': error.errmsg, 'code': error.code,
                         'codeName': CODE_NAMES.get(error.code, 'UnknownError')}
                reply.update(error.extra)
            except NotImplementedError as error:
                reply = {'ok': 0, 'code': 238, 'codeName': 'NotImplemented',
                         'errmsg': 'not supported by the wire double: %s' % error}
            except (OperationFailure, WriteError, ValueError, TypeError, KeyError) as error:
                code = getattr(error, 'code', None) or 2
                reply = {'ok': 0, 'errmsg': str(error), 'code': code,
                         'codeName': CODE_NAMES.get(code, 'BadValue')}
            flags = request.flags or 0
            if isinstance(request, mockupdb.OpMsg) and flags & mockupdb.OP_MSG_FLAGS['moreToCome']:
                return True  # unacknowledged write: the client expects no reply
            request.replies(reply)
        except Exception:  # never let a bug kill the connection thread silently
            log('internal error:\n' + traceback.format_exc())
            try:
                request.replies({'ok': 0, 'code': 1, 'codeName': 'InternalError',
                                 'errmsg': 'wire double internal error: %s' % sys.exc_info()[1]})
            except Exception:
                pass
        return True

    def dispatch(self, name, db_name, doc):
        if doc.get('startTransaction') or 'autocommit' in doc:
            raise CommandError(20, 'Transaction numbers are only allowed on a replica set member'
                                   ' or mongos (the wire double is a standalone server)')
        handler = self.commands.get(name.lower())
        if handler is None:
            raise CommandError(59, "no such command: '%s'" % name)
        return handler(self.client[db_name], doc[name], doc)

    def new_cursor(self, ns, docs, first_batch_size):
        batch, rest = take_batch(docs, first_batch_size)
        cursor_id = 0
        if rest:
            cursor_id = self.next_cursor
            self.next_cursor += 1
            self.cursors[cursor_id] = (ns, rest)
        return {'cursor': {'firstBatch': batch, 'id': Int64(cursor_id), 'ns': ns}, 'ok': 1}

    # -- handshake and admin -------------------------------------------------------------------

    def cmd_hello(self, _db, _arg, _doc):
        # No topologyVersion: with it the Node driver switches to streaming (exhaust) monitoring.
        return {
            'helloOk': True, 'ismaster': True, 'isWritablePrimary': True,
            'maxBsonObjectSize': 16 * 1024 * 1024, 'maxMessageSizeBytes': 48000000,
            'maxWriteBatchSize': 100000, 'localTime': datetime.datetime.now(datetime.timezone.utc),
            'logicalSessionTimeoutMinutes': 30, 'connectionId': next(self.connection_ids),
            'minWireVersion': 0, 'maxWireVersion': MAX_WIRE_VERSION, 'readOnly': False, 'ok': 1,
        }

    def cmd_ok(self, _db, _arg, _doc):
        return {'ok': 1}

    def cmd_build_info(self, _db, _arg, _doc):
        return {'version': SERVER_VERSION, 'versionArray': [6, 0, 0, 0], 'bits': 64,
                'maxBsonObjectSize': 16 * 1024 * 1024, 'storageEngines': ['mongomock'],
                'javascriptEngine': 'none', 'ok': 1}

    def cmd_server_status(self, _db, _arg, _doc):
        return {'host': 'mongo_double', 'version': SERVER_VERSION, 'process': 'mongo_double',
                'pid': Int64(os.getpid()), 'uptime': time.monotonic(), 'ok': 1}

    def cmd_transaction(self, _db, _arg, _doc):
        raise CommandError(20, 'Transaction numbers are only allowed on a replica set member'
                               ' or mongos (the wire double is a standalone server)')

    def cmd_list_databases(self, _db, _arg, doc):
        names = self.client.list_database_names()
        if doc.get('nameOnly'):
            return {'databases': [{'name': n} for n in names], 'ok': 1}
        return {'databases': [{'name': n, 'sizeOnDisk': 0, 'empty': False} for n in names],
                'totalSize': 0, 'ok': 1}

    # -- cursors -------------------------------------------------------------------------------

    def cmd_get_more(self, _db, cursor_id, doc):
        entry = self.cursors.pop(int(cursor_id), None)
        if entry is None:
            raise CommandError(43, 'cursor id %d not found' % int(cursor_id))
        ns, docs = entry
        batch, rest = take_batch(docs, doc.get('batchSize') or 0)
        next_id = 0
        if rest:
            next_id = int(cursor_id)
            self.cursors[next_id] = (ns, rest)
        return {'cursor': {'nextBatch': batch, 'id': Int64(next_id), 'ns': ns}, 'ok': 1}

    def cmd_kill_cursors(self, _db, _coll, doc):
        killed, missing = [], []
        for cursor_id in doc.get('cursors', []):
            if self.cursors.pop(int(cursor_id), None) is None:
                missing.append(Int64(cursor_id))
            else:
                killed.append(Int64(cursor_id))
        return {'cursorsKilled': killed, 'cursorsNotFound': missing, 'cursorsAlive': [],
                'cursorsUnknown': [], 'ok': 1}

    # -- collections and indexes ---------------------------------------------------------------

    def cmd_list_collections(self, db, _arg, doc):
        infos = []
        for name in sorted(db.list_collection_names()):
            infos.append({'name': name, 'type': 'collection', 'options': {},
                          'info': {'readOnly': False},
                          'idIndex': {'v': 2, 'key': {'_id': 1}, 'name': '_id_'}})
        filt = doc.get('filter') or {}
        infos = [i for i in infos if filter_applies(filt, i)]
        if doc.get('nameOnly'):
            infos = [{'name': i['name'], 'type': i['type']} for i in infos]
        return self.new_cursor('%s.$cmd.listCollections' % db.name, infos,
                               (doc.get('cursor') or {}).get('batchSize') or 0)

    def cmd_list_indexes(self, db, coll_name, doc):
        if coll_name not in db.list_collection_names():
            raise CommandError(26, 'ns does not exist: %s.%s' % (db.name, coll_name))
        indexes = []
        for name, info in db[coll_name].index_information().items():
            spec = {'v': 2, 'key': dict(info['key']), 'name': name}
            for option in ('unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'):
                if option in info:
                    spec[option] = info[option]
            indexes.append(spec)
        return self.new_cursor('%s.%s' % (db.name, coll_name), indexes,
                               (doc.get('cursor') or {}).get('batchSize') or 0)

    def cmd_create(self, db, coll_name, _doc):
        try:
            db.create_collection(coll_name)
        except CollectionInvalid:
            raise CommandError(48, 'Collection %s.%s already exists.' % (db.name, coll_name))
        return {'ok': 1}

    def cmd_drop(self, db, coll_name, _doc):
        if coll_name not in db.list_collection_names():
            raise CommandError(26, 'ns not found')
        before = len(db[coll_name].index_information())
        db.drop_collection(coll_name)
        return {'nIndexesWas': before, 'ns': '%s.%s' % (db.name, coll_name), 'ok': 1}

    def cmd_drop_database(self, db, _arg, _doc):
        self.client.drop_database(db.name)
        return {'dropped': db.name, 'ok': 1}

    def cmd_create_indexes(self, db, coll_name, doc):
        created_collection = coll_name not in db.list_collection_names()
        if created_collection:
            db.create_collection(coll_name)
        coll = db[coll_name]
        before = len(coll.index_information())
        for spec in doc.get('indexes', []):
            options = {}
            for option in ('unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'):
                if spec.get(option) is not None:
                    options[option] = spec[option]
            for option in spec:
                if option not in ('key', 'name', 'unique', 'sparse', 'partialFilterExpression',
                                  'expireAfterSeconds', 'background', 'v', 'ns'):
                    log('createIndexes: option %r ignored' % option)
            try:
                coll.create_index(list(spec['key'].items()), name=spec['name'], **options)
            except DuplicateKeyError:
                raise CommandError(11000, 'E11000 duplicate key error collection: %s.%s index: %s'
                                          % (db.name, coll_name, spec['name']))
            except OperationFailure as error:
                raise CommandError(85, str(error))
        after = len(coll.index_information())
        reply = {'createdCollectionAutomatically': created_collection,
                 'numIndexesBefore': before, 'numIndexesAfter': after, 'ok': 1}
        if before == after:
            reply['note'] = 'all indexes already exist'
        return reply

    def cmd_drop_indexes(self, db, coll_name, doc):
        if coll_name not in db.list_collection_names():
            raise CommandError(26, 'ns not found %s.%s' % (db.name, coll_name))
        coll = db[coll_name]
        before = len(coll.index_information())
        index = doc.get('index')
        names = index if isinstance(index, list) else [index]
        for name in names:
            if name == '*':
                coll.drop_indexes()
            elif isinstance(name, dict):
                coll.drop_index(list(name.items()))
            else:
                try:
                    coll.drop_index(name)
                except OperationFailure:
                    raise CommandError(27, 'index not found with name [%s]' % name)
        return {'nIndexesWas': before, 'ok': 1}

    # -- writes --------------------------------------------------------------------------------

    def cmd_insert(self, db, coll_name, doc):
        coll = db[coll_name]
        ordered = doc.get('ordered', True)
        inserted, errors = 0, []
        for index, document in enumerate(doc.get('documents', [])):
            try:
                coll.insert_one(document)
                inserted += 1
            except Exception as error:  # noqa: BLE001 - reported as a writeError like mongod does
                errors.append(write_error(index, error, coll, document))
                if ordered:
                    break
        reply = {'n': inserted, 'ok': 1}
        if errors:
            reply['writeErrors'] = errors
        return reply

    def cmd_update(self, db, coll_name, doc):
        coll = db[coll_name]
        ordered = doc.get('ordered', True)
        matched, modified, upserted, errors = 0, 0, [], []
        for index, spec in enumerate(doc.get('updates', [])):
            query, update = spec.get('q') or {}, spec.get('u')
            upsert, multi = bool(spec.get('upsert')), bool(spec.get('multi'))
            try:
                if spec.get('arrayFilters'):
                    raise NotImplementedError('arrayFilters')
                if spec.get('collation'):
                    raise NotImplementedError('collation')
                if isinstance(update, list):
                    raise NotImplementedError('pipeline-style updates')
                if is_operator_doc(update):
                    result = (coll.update_many if multi else coll.update_one)(
                        query, update, upsert=upsert).raw_result
                else:
                    if multi:
                        raise CommandError(9, 'multi update is not supported for'
                                              ' replacement-style update')
                    result = coll.replace_one(query, update, upsert=upsert).raw_result
                if result.get('upserted') is not None:
                    matched += 1
                    upserted.append({'index': index, '_id': result['upserted']})
                else:
                    matched += result.get('n', 0)
                    modified += result.get('nModified', 0)
            except Exception as error:  # noqa: BLE001
                image = post_image(coll, query, update, upsert) if isinstance(
                    error, DuplicateKeyError) else None
                errors.append(write_error(index, error, coll, image))
                if ordered:
                    break
        reply = {'n': matched, 'nModified': modified, 'ok': 1}
        if upserted:
            reply['upserted'] = upserted
        if errors:
            reply['writeErrors'] = errors
        return reply

    def cmd_delete(self, db, coll_name, doc):
        coll = db[coll_name]
        deleted, errors = 0, []
        for index, spec in enumerate(doc.get('deletes', [])):
            try:
                if spec.get('collation'):
                    raise NotImplementedError('collation')
                query = spec.get('q') or {}
                if spec.get('limit') == 1:
                    deleted += coll.delete_one(query).deleted_count
                else:
                    deleted += coll.delete_many(query).deleted_count
            except Exception as error:  # noqa: BLE001
                errors.append(write_error(index, error))
                if doc.get('ordered', True):
                    break
        reply = {'n': deleted, 'ok': 1}
        if errors:
            reply['writeErrors'] = errors
        return reply

    def cmd_find_and_modify(self, db, coll_name, doc):
        coll = db[coll_name]
        query, sort = doc.get('query') or {}, sort_spec(doc.get('sort'))
        update, fields = doc.get('update'), projection_spec(doc.get('fields'))
        upsert, return_new = bool(doc.get('upsert')), bool(doc.get('new'))
        if doc.get('arrayFilters'):
            raise NotImplementedError('arrayFilters')
        if doc.get('collation'):
            raise NotImplementedError('collation')
        if isinstance(update, list):
            raise NotImplementedError('pipeline-style updates')
        existing = coll.find_one(query, sort=sort)
        if doc.get('remove'):
            if existing is None:
                return {'lastErrorObject': {'n': 0}, 'value': None, 'ok': 1}
            value = coll.find_one({'_id': existing['_id']}, fields)
            coll.delete_one({'_id': existing['_id']})
            return {'lastErrorObject': {'n': 1}, 'value': value, 'ok': 1}
        if update is None:
            raise CommandError(9, 'Either an update or remove=true must be specified')
        operator = is_operator_doc(update)
        try:
            if existing is not None:
                selector = {'_id': existing['_id']}
                before = coll.find_one(selector, fields)
                if operator:
                    coll.update_one(selector, update)
                else:
                    coll.replace_one(selector, update)
                value = coll.find_one(selector, fields) if return_new else before
                return {'lastErrorObject': {'n': 1, 'updatedExisting': True}, 'value': value,
                        'ok': 1}
            if not upsert:
                return {'lastErrorObject': {'n': 0, 'updatedExisting': False}, 'value': None,
                        'ok': 1}
            if operator:
                result = coll.update_one(query, update, upsert=True)
            else:
                result = coll.replace_one(query, update, upsert=True)
            new_id = result.upserted_id
        except DuplicateKeyError:
            details = duplicate_key_error(coll, post_image(coll, query, update, upsert, doc.get('sort')))
            raise CommandError(11000, details.pop('errmsg'), **{
                k: v for k, v in details.items() if k != 'code'})
        value = coll.find_one({'_id': new_id}, fields) if return_new else None
        return {'lastErrorObject': {'n': 1, 'updatedExisting': False, 'upserted': new_id},
                'value': value, 'ok': 1}

    # -- reads ---------------------------------------------------------------------------------

    def cmd_find(self, db, coll_name, doc):
        if doc.get('collation'):
            raise NotImplementedError('collation')
        limit = int(doc.get('limit') or 0)
        single_batch = bool(doc.get('singleBatch')) or limit < 0
        limit = abs(limit)
        cursor = db[coll_name].find(doc.get('filter') or {}, projection_spec(doc.get('projection')),
                                    skip=int(doc.get('skip') or 0), limit=limit,
                                    sort=sort_spec(doc.get('sort')))
        docs = list(cursor)
        ns = '%s.%s' % (db.name, coll_name)
        if single_batch:
            return {'cursor': {'firstBatch': docs, 'id': Int64(0), 'ns': ns}, 'ok': 1}
        batch_size = doc.get('batchSize')
        return self.new_cursor(ns, docs, DEFAULT_FIRST_BATCH if batch_size is None else batch_size)

    def cmd_count(self, db, coll_name, doc):
        skip, limit = int(doc.get('skip') or 0), abs(int(doc.get('limit') or 0))
        n = len(list(db[coll_name].find(doc.get('query') or {}, skip=skip, limit=limit)))
        return {'n': n, 'ok': 1}

    def cmd_distinct(self, db, coll_name, doc):
        if doc.get('collation'):
            raise NotImplementedError('collation')
        return {'values': db[coll_name].distinct(doc['key'], doc.get('query') or {}), 'ok': 1}

    def cmd_aggregate(self, db, coll_name, doc):
        if not isinstance(coll_name, str):
            raise CommandError(238, 'database-level aggregate is not supported by the wire double')
        if doc.get('explain'):
            raise NotImplementedError('explain')
        if doc.get('collation'):
            raise NotImplementedError('collation')
        docs = list(db[coll_name].aggregate(doc.get('pipeline') or []))
        batch_size = (doc.get('cursor') or {}).get('batchSize')
        return self.new_cursor('%s.%s' % (db.name, coll_name), docs,
                               DEFAULT_FIRST_BATCH if batch_size is None else batch_size)


def take_batch(docs, batch_size):
    """First `batch_size` documents (all if 0), capped near the 16 MB reply limit."""
    limit = len(docs) if not batch_size else min(int(batch_size), len(docs))
    size, count = 0, 0
    while count < limit:
        size += len(bson.encode(docs[count]))
        if size > MAX_BATCH_BYTES and count > 0:
            break
        count += 1
    return docs[:count], docs[count:]


verbose = False


def main():
    global verbose, log_stream
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--verbose', action='store_true', help='log every command')
    parser.add_argument('--log-file', help='append the log here instead of stderr')
    parser.add_argument('--exit-on-stdin-eof', action='store_true')
    args = parser.parse_args()
    verbose = args.verbose
    if args.log_file:
        log_stream = open(args.log_file, 'a', encoding='utf-8')

    double = Double()
    server = mockupdb.MockupDB(port=args.port, request_timeout=int(1e6))
    server.autoresponds(double.handle)
    port = server.run()

    def shutdown(*_args):
        # Everything lives in memory: nothing to flush, no reason to wait for client threads.
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if args.exit_on_stdin_eof:
        def watch_stdin():
            while sys.stdin.buffer.read(65536):
                pass
            shutdown()
        threading.Thread(target=watch_stdin, daemon=True).start()

    print('mongo_double listening on 127.0.0.1:%d (mockupdb %s, mongomock %s, python %s)' % (
        port, getattr(mockupdb, '__version__', '?'), mongomock.__version__,
        sys.version.split()[0]), flush=True)
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    main()
