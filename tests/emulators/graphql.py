# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small GraphQL parser and executor over plain dicts, in the style of Sonar's API.

Enough of the language for real client queries: an operation with variable definitions,
aliases, arguments (variables, literals, lists, input objects) and nested selection sets.
Data is a dict of root fields, each a list of entity dicts. A list-valued field is a Sonar
connection: it answers ``entities`` and ``page_info`` and takes ``paginator``, ``search``,
``reverse_relation_filters`` and plain equality arguments (``activates_account: true``).
Only the selected fields are returned, and selecting a field the data does not have is an
error, as on a real schema. Errors raise GraphQLError, which the server turns into an
``errors`` member.
"""

from __future__ import annotations

import json
import math
import re

TOKEN = re.compile(r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
  | (?P<punct>\.\.\.|[!$():=@\[\]{}|&])
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
""", re.VERBOSE)
CONNECTION_ARGUMENTS = ("paginator", "search", "reverse_relation_filters", "sorter")
DEFAULT_PAGE = {"page": 1, "records_per_page": 100}


class GraphQLError(Exception):
    """Becomes one entry of the answer's ``errors`` list."""


class Field(object):
    __slots__ = ("alias", "name", "arguments", "selections")

    def __init__(self, alias, name, arguments, selections):
        self.alias, self.name, self.arguments, self.selections = alias, name, arguments, selections


class Variable(object):
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def tokenize(source):
    tokens, index = [], 0
    while index < len(source):
        match = TOKEN.match(source, index)
        if match is None:
            raise GraphQLError("Syntax Error: Unexpected character %r at offset %d." % (source[index], index))
        index = match.end()
        if match.lastgroup != "skip":
            tokens.append((match.lastgroup, match.group(match.lastgroup)))
    tokens.append(("eof", ""))
    return tokens


class Parser(object):
    """Recursive descent over the token list; one Parser per document."""

    def __init__(self, source):
        self.tokens = tokenize(source)
        self.index = 0

    def peek(self, value=None):
        kind, text = self.tokens[self.index]
        return text == value if value is not None else (kind, text)

    def take(self, value=None, kind=None):
        token_kind, text = self.tokens[self.index]
        if token_kind == "eof" or (value is not None and text != value) or (kind is not None and token_kind != kind):
            wanted = value or kind or "a token"
            raise GraphQLError("Syntax Error: Expected %s, found %s." % (wanted, text or "<EOF>"))
        self.index += 1
        return text

    def document(self):
        """(operation name, variable definitions {name: (type, default)}, selections)."""
        name, definitions = None, {}
        if self.peek("query"):
            self.take("query")
            if self.peek()[0] == "name":
                name = self.take(kind="name")
            if self.peek("("):
                definitions = self.variable_definitions()
        elif self.peek()[1] in ("mutation", "subscription"):
            raise GraphQLError("This API only answers queries.")
        selections = self.selection_set()
        if self.peek()[0] != "eof":
            raise GraphQLError("Syntax Error: Unexpected %s after the operation." % self.peek()[1])
        return name, definitions, selections

    def variable_definitions(self):
        self.take("(")
        definitions = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            kind = self.type_reference()
            default = None
            if self.peek("="):
                self.take("=")
                default = self.value()
            definitions[name] = (kind, default)
        self.take(")")
        return definitions

    def type_reference(self):
        if self.peek("["):
            self.take("[")
            inner = self.type_reference()
            self.take("]")
            kind = "[%s]" % inner
        else:
            kind = self.take(kind="name")
        if self.peek("!"):
            self.take("!")
            kind += "!"
        return kind

    def selection_set(self):
        self.take("{")
        selections = []
        while not self.peek("}"):
            if self.peek("..."):
                raise GraphQLError("Fragments are not supported by this emulator.")
            alias = name = self.take(kind="name")
            if self.peek(":"):
                self.take(":")
                name = self.take(kind="name")
            arguments = self.arguments() if self.peek("(") else {}
            children = self.selection_set() if self.peek("{") else None
            selections.append(Field(alias, name, arguments, children))
        self.take("}")
        return selections

    def arguments(self):
        self.take("(")
        arguments = {}
        while not self.peek(")"):
            name = self.take(kind="name")
            self.take(":")
            arguments[name] = self.value()
        self.take(")")
        return arguments

    def value(self):
        kind, text = self.peek()
        if text == "$":
            self.take("$")
            return Variable(self.take(kind="name"))
        if text == "[":
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        if text == "{":
            self.take("{")
            fields = {}
            while not self.peek("}"):
                name = self.take(kind="name")
                self.take(":")
                fields[name] = self.value()
            self.take("}")
            return fields
        self.take()
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            return json.loads(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)
        raise GraphQLError("Syntax Error: Unexpected %s." % (text or "<EOF>"))


def substitute(value, variables, definitions):
    if isinstance(value, Variable):
        if value.name not in definitions:
            raise GraphQLError('Variable "$%s" is not defined.' % value.name)
        if value.name in variables:
            return variables[value.name]
        kind, default = definitions[value.name]
        if default is None and kind.endswith("!"):
            raise GraphQLError('Variable "$%s" of required type "%s" was not provided.' % (value.name, kind))
        return default
    if isinstance(value, list):
        return [substitute(item, variables, definitions) for item in value]
    if isinstance(value, dict):
        return dict((k, substitute(v, variables, definitions)) for k, v in value.items())
    return value


def execute(source, variables, data):
    """Run one query document against ``data``; returns the ``data`` member of the answer."""
    name, definitions, selections = Parser(source).document()
    variables = variables or {}
    if not isinstance(variables, dict):
        raise GraphQLError("Variables must be an object.")
    return _select(selections, data, "Query", variables, definitions, root=True)


def _select(selections, entity, type_name, variables, definitions, root=False):
    result = {}
    for field in selections:
        if field.name == "__typename":
            result[field.alias] = type_name
            continue
        if field.name not in entity:
            raise GraphQLError('Cannot query field "%s" on type "%s".' % (field.name, type_name))
        value = entity[field.name]
        arguments = substitute(field.arguments, variables, definitions)
        if isinstance(value, list):
            if field.selections is None:
                raise GraphQLError('Field "%s" of type "%sConnection" must have a selection of subfields.'
                                   % (field.name, field.name))
            result[field.alias] = _connection(field, value, arguments, variables, definitions)
        elif isinstance(value, dict):
            if field.selections is None:
                raise GraphQLError('Field "%s" must have a selection of subfields.' % field.name)
            result[field.alias] = _select(field.selections, value, field.name, variables, definitions)
        elif value is None:
            result[field.alias] = None
        else:
            if field.selections is not None:
                raise GraphQLError('Field "%s" must not have a selection since it is a scalar.' % field.name)
            result[field.alias] = value
    return result


def _connection(field, items, arguments, variables, definitions):
    items = [item for item in items if _matches_arguments(item, arguments)]
    paginator = arguments.get("paginator") or DEFAULT_PAGE
    try:
        page, per_page = int(paginator.get("page", 1)), int(paginator.get("records_per_page", 100))
    except (AttributeError, TypeError, ValueError):
        raise GraphQLError("paginator needs integer page and records_per_page.")
    if page < 1 or per_page < 1:
        raise GraphQLError("paginator page and records_per_page must be positive.")
    total_pages = int(math.ceil(len(items) / float(per_page)))
    chosen = items[(page - 1) * per_page:page * per_page]
    answer = {}
    for child in field.selections:
        if child.name == "entities":
            answer[child.alias] = [_select(child.selections or [], item, field.name, variables, definitions)
                                   for item in chosen]
        elif child.name == "page_info":
            info = {"page": page, "records_per_page": per_page, "total_count": len(items),
                    "total_pages": total_pages}
            answer[child.alias] = _select(child.selections or [], info, "PageInfo", variables, definitions)
        else:
            raise GraphQLError('Cannot query field "%s" on type "%sConnection".' % (child.name, field.name))
    return answer


def _matches_arguments(item, arguments):
    for name, wanted in arguments.items():
        if name == "search":
            if not all(_matches_search(item, search) for search in _listed(wanted)):
                return False
        elif name == "reverse_relation_filters":
            for relation in _listed(wanted):
                related = _follow(item, str(relation.get("relation", "")))
                if not any(all(_matches_search(other, s) for s in _listed(relation.get("search"))) for other in related):
                    return False
        elif name not in CONNECTION_ARGUMENTS and item.get(name) != wanted:
            return False
    return True


def _listed(value):
    return [v for v in (value if isinstance(value, list) else [value]) if v]


def _follow(item, path):
    """The entities reached from ``item`` along a dotted relation path."""
    current = [item]
    for step in path.split("."):
        reached = []
        for entity in current:
            value = entity.get(step)
            if isinstance(value, list):
                reached.extend(value)
            elif isinstance(value, dict):
                reached.append(value)
        current = reached
    return current


COMPARE = {
    "EQ": lambda a, b: a == b, "NEQ": lambda a, b: a != b, "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b, "LT": lambda a, b: a < b, "LTE": lambda a, b: a <= b,
}


def _matches_search(item, search):
    """Conditions on one attribute are alternatives (OR); different attributes must all hold."""
    by_attribute = {}
    for condition in search.get("integer_fields") or ():
        operator = COMPARE.get(condition.get("operator", "EQ"))
        if operator is None:
            raise GraphQLError("Unknown operator %r." % condition.get("operator"))
        value = item.get(condition["attribute"])
        by_attribute.setdefault(condition["attribute"], []).append(
            value is not None and operator(value, condition["search_value"]))
    for condition in search.get("string_fields") or ():
        value = str(item.get(condition["attribute"]) or "").lower()
        wanted = str(condition["search_value"]).lower()
        by_attribute.setdefault(condition["attribute"], []).append(
            value == wanted if condition.get("match") else wanted in value)
    for condition in search.get("boolean_fields") or ():
        by_attribute.setdefault(condition["attribute"], []).append(
            bool(item.get(condition["attribute"])) == bool(condition["search_value"]))
    return all(any(results) for results in by_attribute.values())
