; Additions to the shipped JavaScript and TypeScript tags: namespaces, type aliases,
; enums, members, top-level constants, and references to types, base classes and imports.

(internal_module name: (identifier) @name) @definition.module

(type_alias_declaration name: (type_identifier) @name) @definition.type

(enum_declaration name: (identifier) @name) @definition.enum

(property_signature name: (property_identifier) @name) @definition.field

(public_field_definition name: (property_identifier) @name) @definition.field

(program
  [
    (lexical_declaration (variable_declarator name: (identifier) @name) @definition.constant)
    (export_statement
      declaration: (lexical_declaration
        (variable_declarator name: (identifier) @name) @definition.constant))
  ])

(type_identifier) @name @reference.type

(extends_clause
  value: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.class

(import_specifier name: (identifier) @name) @reference.import

(import_clause (identifier) @name) @reference.import
