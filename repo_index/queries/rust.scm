; Additions to the shipped Rust tags: the implemented type as the scope of a method, trait method
; signatures, enums, type aliases, constants, fields, and references through paths and imports.

(impl_item
  type: [
    (type_identifier) @local.scope
    (generic_type type: (type_identifier) @local.scope)
    (scoped_type_identifier name: (type_identifier) @local.scope)
  ]
  body: (declaration_list
    (function_item name: (identifier) @name) @definition.method))

(function_signature_item name: (identifier) @name) @definition.method

(enum_item name: (type_identifier) @name) @definition.enum

(type_item name: (type_identifier) @name) @definition.type

[
  (const_item name: (identifier) @name)
  (static_item name: (identifier) @name)
] @definition.constant

(field_declaration name: (field_identifier) @name) @definition.field

(type_identifier) @name @reference.type

(call_expression
  function: [
    (scoped_identifier name: (identifier) @name)
    (generic_function
      function: [
        (identifier) @name
        (scoped_identifier name: (identifier) @name)
        (field_expression field: (field_identifier) @name)
      ])
  ]) @reference.call

(use_declaration
  argument: [
    (identifier) @name
    (scoped_identifier name: (identifier) @name)
    (use_as_clause path: (scoped_identifier name: (identifier) @name))
  ]) @reference.import

(use_list
  [
    (identifier) @name
    (scoped_identifier name: (identifier) @name)
    (use_as_clause path: (scoped_identifier name: (identifier) @name))
  ]) @reference.import
