; Additions to the shipped Python tags: class attributes, type aliases, and references beyond calls
; (decorators, base classes, annotations, names imported from other modules).

(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name) @definition.field)))

(module
  (type_alias_statement
    left: (type (identifier) @name)) @definition.type)

(decorator (identifier) @name) @reference.call

(decorator (attribute attribute: (identifier) @name)) @reference.call

(class_definition
  superclasses: (argument_list
    [
      (identifier) @name
      (attribute attribute: (identifier) @name)
    ])) @reference.class

(type (identifier) @name) @reference.type

(type (attribute attribute: (identifier) @name)) @reference.type

(generic_type (identifier) @name) @reference.type

(import_from_statement
  name: [
    (dotted_name (identifier) @name .)
    (aliased_import name: (dotted_name (identifier) @name .))
  ]) @reference.import
