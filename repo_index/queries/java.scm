; Additions to the shipped Java tags: enums, records, annotation types, constructors, fields and
; constants, and references to types, annotations and imported names.

(enum_declaration name: (identifier) @name) @definition.enum

(record_declaration name: (identifier) @name) @definition.class

(annotation_type_declaration name: (identifier) @name) @definition.interface

(constructor_declaration name: (identifier) @name) @definition.method

(annotation_type_element_declaration name: (identifier) @name) @definition.method

(field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.field

(constant_declaration
  declarator: (variable_declarator name: (identifier) @name)) @definition.constant

(enum_constant name: (identifier) @name) @definition.constant

(type_identifier) @name @reference.type

[
  (marker_annotation name: (identifier) @name)
  (annotation name: (identifier) @name)
] @reference.type

(import_declaration (scoped_identifier name: (identifier) @name)) @reference.import
