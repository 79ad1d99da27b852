; Additions to the shipped JavaScript tags: top-level constants, class fields, base classes,
; imported names and JSX components.

(program
  [
    (lexical_declaration (variable_declarator name: (identifier) @name) @definition.constant)
    (export_statement
      declaration: (lexical_declaration
        (variable_declarator name: (identifier) @name) @definition.constant))
  ])

(field_definition property: (property_identifier) @name) @definition.field

(class_heritage
  [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.class

(import_specifier name: (identifier) @name) @reference.import

(import_clause (identifier) @name) @reference.import
