/**
 * The "university" database of DataJoint's test suite (tests/schema_university.py), defined
 * in TypeScript, and a loader for its CSV data (test/fixtures/university/, from DataJoint Python's test suite).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dj } from './helpers.js';

const DATA = fileURLToPath(new URL('./fixtures/university/', import.meta.url));

export class Student extends dj.Manual {
  static definition = `
  student_id : uint32   # university-wide ID number
  ---
  first_name      : varchar(40)
  last_name       : varchar(40)
  sex             : enum('F', 'M', 'U')
  date_of_birth   : date
  home_address    : varchar(120) # mailing street address
  home_city       : varchar(60)  # mailing address
  home_state      : char(2)      # US state acronym: e.g. OH
  home_zip        : char(10)     # zipcode e.g. 93979-4979
  home_phone      : varchar(20)  # e.g. 414.657.6883x0881
  `;
}

export class Department extends dj.Manual {
  static definition = `
  dept : varchar(6)   # abbreviated department name, e.g. BIOL
  ---
  dept_name    : varchar(200)  # full department name
  dept_address : varchar(200)  # mailing address
  dept_phone   : varchar(20)
  `;
}

export class StudentMajor extends dj.Manual {
  static definition = `
  -> Student
  ---
  -> Department
  declare_date :  date  # when student declared her major
  `;
}

export class Course extends dj.Manual {
  static definition = `
  -> Department
  course  : uint32   # course number, e.g. 1010
  ---
  course_name :  varchar(200)  # e.g. "Neurobiology of Sensation and Movement."
  credits     :  decimal(3,1)  # number of credits earned by completing the course
  `;
}

export class Term extends dj.Manual {
  static definition = `
  term_year : uint16   # the tutorial's native year type exists only on MySQL
  term      : enum('Spring', 'Summer', 'Fall')
  `;
}

export class Section extends dj.Manual {
  static definition = `
  -> Course
  -> Term
  section : char(1)
  ---
  auditorium   :  varchar(12)
  `;
}

export class CurrentTerm extends dj.Manual {
  static definition = `
  omega = 0 : int8
  ---
  -> Term
  `;
}

export class Enroll extends dj.Manual {
  static definition = `
  -> Student
  -> Section
  `;
}

export class LetterGrade extends dj.Lookup {
  static definition = `
  grade : char(2)
  ---
  points : decimal(3,2)
  `;
  static contents = [
    ['A', 4.0], ['A-', 3.67],
    ['B+', 3.33], ['B', 3.0], ['B-', 2.67],
    ['C+', 2.33], ['C', 2.0], ['C-', 1.67],
    ['D+', 1.33], ['D', 1.0], ['F', 0.0],
  ];
}

export class Grade extends dj.Manual {
  static definition = `
  -> Enroll
  ---
  -> LetterGrade
  `;
}

export const TABLES = { Student, Department, StudentMajor, Course, Term, CurrentTerm, Section, Enroll, LetterGrade, Grade };

/** RFC-4180-style CSV: quoted fields may contain commas and line breaks; records end with CRLF. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field || record.length) {
    record.push(field);
    records.push(record);
  }
  const [header, ...rows] = records.filter((r) => r.length > 1 || r[0] !== '');
  return rows.map((r) => Object.fromEntries(header!.map((h, j) => [h, r[j]!])));
}

export function readCsv(name: string): Record<string, string>[] {
  return parseCsv(readFileSync(DATA + name + '.csv', 'utf8'));
}

/** Register the tables on the schema and load the CSV files in foreign-key order. */
export async function loadUniversity(schema: dj.SchemaDecorator): Promise<Record<string, number>> {
  for (const cls of Object.values(TABLES)) schema.add(cls);
  await schema.declare();
  const counts: Record<string, number> = {};
  for (const [name, cls] of [
    ['Student', Student], ['Department', Department], ['StudentMajor', StudentMajor], ['Course', Course], ['Term', Term],
    ['CurrentTerm', CurrentTerm], ['Section', Section], ['Enroll', Enroll], ['Grade', Grade],
  ] as const) {
    const rows = readCsv(name);
    counts[name] = rows.length;
    await cls.insert(rows);
  }
  return counts;
}
